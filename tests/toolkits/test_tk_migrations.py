"""Schema versions: v1 -> v2 moves me-images into personal spaces in one transaction."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from tk_helpers import Caller, FakeClock, add_image, ctx

from toolkits import default_registry, schema
from toolkits.crypto import FieldCipher, is_ciphertext
from toolkits.errors import SchemaVersionError
from toolkits.keyvault import LocalKeyVault
from toolkits.migrations import current_version
from toolkits.store import make_engine, open_store

V1_ME_IMAGES = """
CREATE TABLE me_images (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    label TEXT,
    tags TEXT,
    path TEXT,
    mime TEXT NOT NULL,
    ai_reference BOOLEAN NOT NULL DEFAULT FALSE,
    primary_slot TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
)
"""
INSERT_V1 = sa.text(
    "INSERT INTO me_images (id, user_id, kind, label, tags, path, mime, ai_reference,"
    " primary_slot, created_at, updated_at, deleted_at) VALUES (:id, :user_id, :kind, :label,"
    " :tags, :path, :mime, :ai_reference, :primary_slot, :created_at, :updated_at, :deleted_at)"
)


def v1_row(row_id: str, user_id: str, **overrides: Any) -> dict[str, Any]:
    """A v1 me-image row: user-level, no space."""
    row = {
        "id": row_id,
        "user_id": user_id,
        "kind": "face",
        "label": None,
        "tags": None,
        "path": f"{user_id}/{row_id}.png",
        "mime": "image/png",
        "ai_reference": True,
        "primary_slot": None,
        "created_at": 1_600_000_000_000,
        "updated_at": 1_600_000_000_500,
        "deleted_at": None,
    }
    return {**row, **overrides}


async def make_v1_store(url: str, rows: list[dict[str, Any]]) -> None:
    """A store as schema v1 left it: me-images keyed by user_id, no space columns."""
    store = await open_store(url)
    async with store.transaction() as conn:
        await conn.execute(sa.text("DROP TABLE me_images"))
        await conn.execute(sa.text(V1_ME_IMAGES))
        await conn.execute(sa.text("CREATE INDEX ix_me_images_user ON me_images (user_id)"))
        for row in rows:
            await conn.execute(INSERT_V1, row)
        await conn.execute(sa.text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    await store.close()


async def columns(conn: AsyncConnection, table: str) -> set[str]:
    """Column names of a table."""
    return await conn.run_sync(lambda c: {col["name"] for col in sa.inspect(c).get_columns(table)})


async def test_v1_me_images_move_into_personal_spaces(
    store_url: str, vault: LocalKeyVault, media_dir: Path
) -> None:
    cipher = FieldCipher(vault)
    sealed = await cipher.seal("me_images", "alice", {"label": "me", "tags": ["a"]})
    await make_v1_store(
        store_url,
        [
            v1_row(
                "a-face", "alice", label=sealed["label"], tags=sealed["tags"], primary_slot="face"
            ),
            v1_row("a-body", "alice", kind="body"),
            v1_row("a-snap", "alice", ai_reference=False),
            v1_row("a-gone", "alice", deleted_at=1_600_000_000_900),
            v1_row("b-face", "bob"),
        ],
    )

    store = await open_store(store_url, clock=FakeClock())
    try:
        assert await store.schema_version() == schema.SCHEMA_VERSION
        async with store.transaction() as conn:
            cols = await columns(conn, "me_images")
            assert "user_id" not in cols
            assert {"space_id", "author_id", "visibility", "seq", "clock"} <= cols
            rows = {r.id: r for r in await conn.execute(sa.select(schema.me_images))}
            assert not await conn.run_sync(lambda c: sa.inspect(c).has_table("me_images_v2"))
        assert set(rows) == {"a-face", "a-body", "a-snap", "a-gone", "b-face"}
        for row_id, row in rows.items():
            owner = "alice" if row_id.startswith("a-") else "bob"
            assert (row.space_id, row.author_id, row.visibility) == (
                f"personal:{owner}",
                owner,
                "private",
            )
        assert rows["a-gone"].deleted_at == 1_600_000_000_900
        assert is_ciphertext(rows["a-face"].label)

        call = Caller(default_registry(store, vault, media_dir=media_dir))
        alice = await call("me.listReferenceImages", ctx("alice"))
        assert {(i["mediaId"], i["primarySlot"]) for i in alice["images"]} == {
            ("a-face", "face"),
            ("a-body", None),
        }
        bob = await call("me.listReferenceImages", ctx("bob"))
        assert [i["mediaId"] for i in bob["images"]] == ["b-face"]
        brand = await store.create_space("alice", "brand", "Alice Co")
        assert await call("me.listReferenceImages", ctx("alice", brand.id)) == {"images": []}

        async with store.scoped(ctx("alice")) as s:
            face = await s.require("me_images", "a-face")
        assert await cipher.open("me_images", "alice", face) == {
            **face,
            "label": "me",
            "tags": ["a"],
        }
        assert face["clock"]["label"] == (1_600_000_000_500, "alice")
        pulled = await store.pull(ctx("alice"), 0)
        assert {r.row_id for r in pulled.rows} == {"a-face", "a-body", "a-snap", "a-gone"}
        # New images still work after the migration.
        await add_image(store, vault, media_dir, "alice", kind="style")
    finally:
        await store.close()


async def test_failed_migration_leaves_the_v1_store_untouched(store_url: str) -> None:
    await make_v1_store(store_url, [v1_row("ok", "alice"), v1_row("broken", "bob", path=None)])
    with pytest.raises(sa.exc.IntegrityError):
        await open_store(store_url)

    engine = make_engine(store_url)
    try:
        async with engine.begin() as conn:
            assert await current_version(conn) == 1
            assert "user_id" in await columns(conn, "me_images")
            assert not await conn.run_sync(lambda c: sa.inspect(c).has_table("me_images_v2"))
            assert await conn.scalar(sa.select(sa.func.count()).select_from(schema.spaces)) == 0
            await conn.execute(sa.text("UPDATE me_images SET path = 'x.png' WHERE id = 'broken'"))
    finally:
        await engine.dispose()

    store = await open_store(store_url)
    assert await store.schema_version() == schema.SCHEMA_VERSION
    await store.close()


async def test_newer_schema_is_refused(store_url: str) -> None:
    store = await open_store(store_url)
    async with store.transaction() as conn:
        await conn.execute(sa.text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    await store.close()
    with pytest.raises(SchemaVersionError, match="newer than this code"):
        await open_store(store_url)


async def test_data_survives_reopening(store_url: str, tmp_path: Path, media_dir: Path) -> None:
    keystore = tmp_path / "keys.json"
    store = await open_store(store_url)
    vault = LocalKeyVault(keystore)
    call = Caller(default_registry(store, vault, media_dir=media_dir))
    team = await store.create_space("alice", "team", "T")
    await store.add_member(team.id, "bob", "viewer")
    todo = await call("todo.create", ctx("alice"), {"title": "persist me"})
    await call("notes.create", ctx("alice", team.id), {"title": "kept", "content": "safe"})
    image = await add_image(store, vault, media_dir, "alice", slot="face")
    await store.grant_credits("alice", 42)
    await store.close()

    store = await open_store(store_url)
    try:
        call = Caller(default_registry(store, LocalKeyVault(keystore), media_dir=media_dir))
        assert [t["id"] for t in (await call("todo.list", ctx("alice")))["todos"]] == [todo["id"]]
        found = await call("notes.search", ctx("bob", team.id), {"query": "safe"})
        assert [m["title"] for m in found["matches"]] == ["kept"]
        images = (await call("me.listReferenceImages", ctx("alice")))["images"]
        assert [(i["mediaId"], i["primarySlot"]) for i in images] == [(image, "face")]
        assert await store.credits("alice") == 42
        assert [m.role for m in await store.spaces_of("bob")] == ["owner", "viewer"]
    finally:
        await store.close()


async def test_v2_store_gains_the_call_ledger(store_url: str, tmp_path: Path) -> None:
    store = await open_store(store_url)
    call = Caller(default_registry(store, LocalKeyVault(tmp_path / "keys.json")))
    kept = await call("todo.create", ctx("alice"), {"title": "from v2"})
    async with store.transaction() as conn:
        await conn.execute(sa.text("DROP TABLE tool_calls"))
        await conn.execute(sa.text("UPDATE meta SET value = '2' WHERE key = 'schema_version'"))
    await store.close()

    store = await open_store(store_url)
    try:
        assert await store.schema_version() == 3
        call = Caller(default_registry(store, LocalKeyVault(tmp_path / "keys.json")))
        once = replace(ctx("alice"), run_id="r", call_id="c1")
        first = await call("todo.create", once, {"title": "after v3"})
        assert await call("todo.create", once, {"title": "after v3"}) == first
        titles = [t["title"] for t in (await call("todo.list", ctx("alice")))["todos"]]
        assert titles == [kept["title"], "after v3"]
    finally:
        await store.close()
