"""me.generateWithReference against a local fake of the images endpoint, through the SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from tk_fake_images import FakeImagesAPI, FakeServer
from tk_helpers import Caller, add_image, ctx

from planner.tools import ToolRegistry
from toolkits import default_registry, schema
from toolkits.errors import ImageGenerationError, InsufficientCreditsError, NotFoundError
from toolkits.images import make_image_client
from toolkits.keyvault import LocalKeyVault
from toolkits.me import GenerateInput, GenerateOutput, MeTools
from toolkits.store import Store


@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[FakeServer, FakeImagesAPI]]:
    """One fake server for the module."""
    api = FakeImagesAPI()
    server = FakeServer(api)
    server.start()
    yield server, api
    server.stop()


@pytest.fixture
def fake_api(fake_server: tuple[FakeServer, FakeImagesAPI]) -> FakeImagesAPI:
    """The fake API, reset for this test."""
    fake_server[1].reset()
    return fake_server[1]


@pytest.fixture
async def image_registry(
    store: Store,
    vault: LocalKeyVault,
    media_dir: Path,
    fake_server: tuple[FakeServer, FakeImagesAPI],
) -> AsyncIterator[ToolRegistry]:
    """Tools with an image client pointed at the fake server."""
    client = make_image_client(api_key="sk-test", base_url=fake_server[0].base_url)
    yield default_registry(
        store, vault, media_dir=media_dir, image_client=client, image_model="gpt-image-1"
    )
    await client.close()


@pytest.fixture
def gen(image_registry: ToolRegistry) -> Caller:
    """A caller over the registry with images."""
    return Caller(image_registry)


async def test_generates_stores_and_charges_per_image(
    gen: Caller, store: Store, vault: LocalKeyVault, media_dir: Path, fake_api: FakeImagesAPI
) -> None:
    face = await add_image(store, vault, media_dir, "alice", kind="face")
    body = await add_image(store, vault, media_dir, "alice", kind="body")
    await store.grant_credits("alice", 50)

    out = await gen(
        "me.generateWithReference",
        ctx("alice"),
        {
            "prompt": "me on a beach",
            "referenceMediaIds": [face, body],
            "quality": "medium",
            "size": "1024x1536",
            "n": 2,
        },
    )
    assert out["creditsCharged"] == 20 and out["creditsRemaining"] == 30
    assert await store.credits("alice") == 30
    assert len(out["images"]) == 2
    for image in out["images"]:
        assert Path(image["path"]).is_file()
        assert Path(image["path"]).read_bytes().startswith(b"\x89PNG")
        assert Path(image["path"]).is_relative_to(media_dir)

    [request] = fake_api.requests
    assert request.auth == "Bearer sk-test"
    assert request.fields["prompt"] == "me on a beach"
    assert (request.fields["n"], request.fields["quality"], request.fields["size"]) == (
        "2",
        "medium",
        "1024x1536",
    )
    assert request.fields["model"] == "gpt-image-1"
    assert len(request.images) == 2 and all(img[1] == "image/png" for img in request.images)

    async with store.scoped(ctx("alice")) as s:
        rows = {r["id"]: r for r in await s.select("me_images")}
    for image in out["images"]:
        row = rows[image["mediaId"]]
        assert (row["kind"], row["source"], row["ai_reference"]) == (
            "generated",
            "generated",
            False,
        )
    # Generated images are not reference images.
    listed = await gen("me.listReferenceImages", ctx("alice"))
    assert {i["mediaId"] for i in listed["images"]} == {face, body}


@pytest.mark.parametrize(("quality", "price"), [("low", 3), ("medium", 10), ("high", 25)])
async def test_price_per_quality(
    gen: Caller,
    store: Store,
    vault: LocalKeyVault,
    media_dir: Path,
    fake_api: FakeImagesAPI,
    quality: str,
    price: int,
) -> None:
    face = await add_image(store, vault, media_dir, "alice")
    await store.grant_credits("alice", 100)
    out = await gen(
        "me.generateWithReference",
        ctx("alice"),
        {"prompt": "p", "referenceMediaIds": [face], "quality": quality, "n": 3},
    )
    assert out["creditsCharged"] == 3 * price
    assert await store.credits("alice") == 100 - 3 * price


async def test_refused_when_balance_is_short(
    gen: Caller, store: Store, vault: LocalKeyVault, media_dir: Path, fake_api: FakeImagesAPI
) -> None:
    face = await add_image(store, vault, media_dir, "alice")
    await store.grant_credits("alice", 24)
    with pytest.raises(InsufficientCreditsError, match="needs 25 credits but the balance is 24"):
        await gen(
            "me.generateWithReference",
            ctx("alice"),
            {"prompt": "p", "referenceMediaIds": [face], "quality": "high"},
        )
    assert await store.credits("alice") == 24
    assert fake_api.requests == []


async def test_nothing_charged_when_the_api_fails(
    gen: Caller, store: Store, vault: LocalKeyVault, media_dir: Path, fake_api: FakeImagesAPI
) -> None:
    face = await add_image(store, vault, media_dir, "alice")
    await store.grant_credits("alice", 30)
    fake_api.fail_status = 500
    with pytest.raises(ImageGenerationError, match=r"HTTP 500\): fake upstream failure"):
        await gen(
            "me.generateWithReference",
            ctx("alice"),
            {"prompt": "p", "referenceMediaIds": [face], "n": 2},
        )
    assert await store.credits("alice") == 30
    assert len(fake_api.requests) == 1
    async with store.scoped(ctx("alice")) as s:
        assert [r["kind"] for r in await s.select("me_images")] == ["face"]


async def test_charged_only_for_images_returned(
    gen: Caller, store: Store, vault: LocalKeyVault, media_dir: Path, fake_api: FakeImagesAPI
) -> None:
    face = await add_image(store, vault, media_dir, "alice")
    await store.grant_credits("alice", 30)
    fake_api.return_count = 1
    out = await gen(
        "me.generateWithReference",
        ctx("alice"),
        {"prompt": "p", "referenceMediaIds": [face], "quality": "low", "n": 3},
    )
    assert (len(out["images"]), out["creditsCharged"], out["creditsRemaining"]) == (1, 3, 27)


async def test_references_must_be_yours_in_the_active_space(
    gen: Caller, store: Store, vault: LocalKeyVault, media_dir: Path, fake_api: FakeImagesAPI
) -> None:
    personal = await add_image(store, vault, media_dir, "alice")
    brand = await store.create_space("alice", "brand", "Co")
    await store.add_member(brand.id, "bob")
    bobs = await add_image(store, vault, media_dir, "bob", brand.id)
    await store.grant_credits("alice", 100)
    for ref in (personal, bobs, "missing"):
        with pytest.raises(NotFoundError, match=ref):
            await gen(
                "me.generateWithReference",
                ctx("alice", brand.id),
                {"prompt": "p", "referenceMediaIds": [ref]},
            )
    assert await store.credits("alice") == 100
    assert fake_api.requests == []


async def test_without_a_client_generation_is_a_tool_error(
    store: Store, vault: LocalKeyVault, media_dir: Path
) -> None:
    call = Caller(default_registry(store, vault, media_dir=media_dir))
    with pytest.raises(ImageGenerationError, match="not configured"):
        await call(
            "me.generateWithReference", ctx("alice"), {"prompt": "p", "referenceMediaIds": ["x"]}
        )


async def test_zero_knowledge_users_can_generate(
    gen: Caller, store: Store, vault: LocalKeyVault, media_dir: Path, fake_api: FakeImagesAPI
) -> None:
    face = await add_image(store, vault, media_dir, "zoe")
    await vault.mark_zero_knowledge("zoe")
    await store.grant_credits("zoe", 3)
    out = await gen(
        "me.generateWithReference",
        ctx("zoe"),
        {"prompt": "p", "referenceMediaIds": [face], "quality": "low"},
    )
    assert out["creditsRemaining"] == 0 and len(out["images"]) == 1


# --- effectively once on ctx.call_id ---------------------------------------------------------


async def media_rows(store: Store, user: str) -> list[str]:
    """Ids of the user's generated images in their personal space."""
    async with store.scoped(ctx(user)) as s:
        return [r["id"] for r in await s.select("me_images") if r["kind"] == "generated"]


async def test_a_call_id_generates_charges_and_stores_once(
    gen: Caller, store: Store, vault: LocalKeyVault, media_dir: Path, fake_api: FakeImagesAPI
) -> None:
    face = await add_image(store, vault, media_dir, "alice")
    await store.grant_credits("alice", 50)
    call = replace(ctx("alice"), run_id="run-1", call_id="toolu_7")
    args = {"prompt": "p", "referenceMediaIds": [face], "quality": "medium", "n": 2}
    first = await gen("me.generateWithReference", call, args)
    again = await gen("me.generateWithReference", call, args)
    assert again == first and first["creditsCharged"] == 20
    assert len(fake_api.requests) == 1
    assert await store.credits("alice") == 30
    assert sorted(await media_rows(store, "alice")) == sorted(i["mediaId"] for i in first["images"])
    other = await gen("me.generateWithReference", replace(call, call_id="toolu_8"), args)
    assert other["creditsRemaining"] == 10 and len(fake_api.requests) == 2


async def test_a_rerun_after_a_crash_past_the_charge_is_not_charged_again(
    image_registry: ToolRegistry,
    gen: Caller,
    store: Store,
    vault: LocalKeyVault,
    media_dir: Path,
    fake_api: FakeImagesAPI,
) -> None:
    face = await add_image(store, vault, media_dir, "alice")
    await store.grant_credits("alice", 50)
    call = replace(ctx("alice"), run_id="run-1", call_id="toolu_7")
    args = {"prompt": "p", "referenceMediaIds": [face], "quality": "low", "n": 3}
    # what a process killed during the image API call leaves: the hold, no images
    spec = image_registry.get("me.generateWithReference")
    assert spec is not None
    kit: MeTools = spec.handler.__self__  # type: ignore[attr-defined]
    inp = GenerateInput.model_validate(args)
    await kit.ledger.hold(call, "me.generateWithReference", inp, 9, GenerateOutput)
    assert await store.credits("alice") == 41
    fake_api.return_count = 2
    out = await gen("me.generateWithReference", call, args)
    assert (out["creditsCharged"], out["creditsRemaining"]) == (6, 44)
    assert await store.credits("alice") == 44
    assert len(await media_rows(store, "alice")) == 2
    assert await gen("me.generateWithReference", call, args) == out
    assert len(fake_api.requests) == 1


async def test_a_failed_generation_releases_its_hold(
    gen: Caller, store: Store, vault: LocalKeyVault, media_dir: Path, fake_api: FakeImagesAPI
) -> None:
    face = await add_image(store, vault, media_dir, "alice")
    await store.grant_credits("alice", 30)
    call = replace(ctx("alice"), run_id="run-1", call_id="toolu_7")
    args = {"prompt": "p", "referenceMediaIds": [face], "n": 2}
    fake_api.fail_status = 500
    with pytest.raises(ImageGenerationError):
        await gen("me.generateWithReference", call, args)
    assert await store.credits("alice") == 30
    async with store.transaction() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(schema.tool_calls)) == 0
    fake_api.fail_status = None
    out = await gen("me.generateWithReference", call, args)  # the retry of the same call runs
    assert out["creditsRemaining"] == 10 and await store.credits("alice") == 10
