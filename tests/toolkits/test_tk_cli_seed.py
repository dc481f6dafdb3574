"""The CLI apps (tools, media, spaces) and the demo seed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tk_helpers import Caller, ctx
from typer.testing import CliRunner

from toolkits import default_registry
from toolkits.cli import media_app, spaces_app, tools_app
from toolkits.keyvault import LocalKeyVault
from toolkits.seed import seed_demo, solid_png
from toolkits.store import Store, open_store

runner = CliRunner()


def test_tools_list_prints_name_scope_hint_parallel_safe() -> None:
    result = runner.invoke(tools_app, ["list"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert lines[0] == ["name", "scope", "hint", "parallel-safe"]
    rows = {line[0]: line[1:] for line in lines[1:]}
    assert len(rows) == 16
    assert rows["notes.search"] == ["user-space", "read", "yes"]
    assert rows["todo.delete"] == ["user-space", "destructive", "no"]
    assert rows["admin.users.list"] == ["admin", "read", "yes"]


async def _reference_images(url: str, keystore: Path, media_dir: Path, space: str) -> list[str]:
    store = await open_store(url)
    try:
        call = Caller(default_registry(store, LocalKeyVault(keystore), media_dir=media_dir))
        listed = await call("me.listReferenceImages", ctx("alice", space))
        return [f"{i['mediaId']}:{i['kind']}:{i['primarySlot']}" for i in listed["images"]]
    finally:
        await store.close()


def test_spaces_and_media_commands(store_url: str, tmp_path: Path) -> None:
    db = ["--db", store_url]
    created = runner.invoke(
        spaces_app, ["create", "Alice Co", "--type", "brand", "--owner", "alice", *db]
    )
    assert created.exit_code == 0, created.output
    brand_id = created.output.strip()
    assert brand_id.startswith("brand:")

    joined = runner.invoke(spaces_app, ["join", brand_id, "--user", "bob", "--role", "viewer", *db])
    assert joined.output.strip() == f"bob\t{brand_id}\tviewer"
    listed = runner.invoke(spaces_app, ["list", "--user", "bob", *db])
    assert listed.output.splitlines()[1:] == [
        "personal:bob\tpersonal\tPersonal\towner",
        f"{brand_id}\tbrand\tAlice Co\tviewer",
    ]

    photo = tmp_path / "me.png"
    photo.write_bytes(solid_png((1, 2, 3)))
    keystore, media_dir = tmp_path / "keys.json", tmp_path / "media"
    opts = ["--keystore", str(keystore), "--media-dir", str(media_dir), *db]
    added = runner.invoke(
        media_app,
        [
            "add",
            str(photo),
            "--kind",
            "face",
            "--reference",
            "--slot",
            "face",
            "--user",
            "alice",
            *opts,
        ],
    )
    assert added.exit_code == 0, added.output
    media_id, space_id, path = added.output.strip().split("\t")
    assert space_id == "personal:alice" and Path(path).read_bytes() == photo.read_bytes()
    in_brand = runner.invoke(
        media_app, ["add", str(photo), "--user", "alice", "--space", brand_id, *opts]
    )
    assert in_brand.exit_code == 0, in_brand.output

    personal = asyncio.run(_reference_images(store_url, keystore, media_dir, "personal"))
    assert personal == [f"{media_id}:face:face"]
    assert len(asyncio.run(_reference_images(store_url, keystore, media_dir, brand_id))) == 1

    refused = runner.invoke(
        media_app, ["add", str(photo), "--user", "bob", "--space", brand_id, *opts]
    )
    assert refused.exit_code == 1 and "read-only" in refused.output
    missing = runner.invoke(spaces_app, ["join", "nope", "--user", "bob", *db])
    assert missing.exit_code == 1 and "space 'nope' does not exist" in missing.output


async def test_seed_demo_is_idempotent(
    store: Store, vault: LocalKeyVault, media_dir: Path, call: Caller
) -> None:
    first = await seed_demo(store, vault, "demo", media_dir=media_dir)
    assert first.created == 3 + 3 + 2 + 2 + 2 and first.credits == 100
    again = await seed_demo(store, vault, "demo", media_dir=media_dir)
    assert again.created == 0 and again.credits == 100

    demo = ctx("demo")
    images = (await call("me.listReferenceImages", demo))["images"]
    assert sorted((i["kind"], i["primarySlot"]) for i in images) == [
        ("body", None),
        ("face", "face"),
    ]
    assert len((await call("todo.list", demo))["todos"]) == 3
    assert len((await call("habits.list", demo))["habits"]) == 3
    assert (await call("notes.search", demo, {"query": "lisbon"}))["matches"][0]["title"] == (
        "Trip ideas"
    )
