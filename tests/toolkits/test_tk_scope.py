"""Tenancy: every query is scoped to the active space, with no cross-space fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
from tk_helpers import Caller, add_image, ctx

from toolkits.errors import NotAMemberError, NotFoundError, PermissionDeniedError, ToolkitError
from toolkits.keyvault import LocalKeyVault
from toolkits.store import Store


async def test_brand_space_never_sees_personal_images(
    call: Caller, store: Store, vault: LocalKeyVault, media_dir: Path
) -> None:
    face = await add_image(store, vault, media_dir, "alice", kind="face", slot="face")
    body = await add_image(store, vault, media_dir, "alice", kind="body")
    await add_image(store, vault, media_dir, "alice", kind="face", reference=False)
    brand = await store.create_space("alice", "brand", "Alice Co")

    personal = await call("me.listReferenceImages", ctx("alice"))
    assert {i["mediaId"] for i in personal["images"]} == {face, body}
    assert {i["mediaId"]: i["primarySlot"] for i in personal["images"]} == {
        face: "face",
        body: None,
    }
    faces = await call("me.listReferenceImages", ctx("alice"), {"kind": "face"})
    assert [i["mediaId"] for i in faces["images"]] == [face]

    assert await call("me.listReferenceImages", ctx("alice", brand.id)) == {"images": []}


async def test_set_primary_in_brand_leaves_personal_alone(
    call: Caller, store: Store, vault: LocalKeyVault, media_dir: Path
) -> None:
    brand = await store.create_space("alice", "brand", "Alice Co")
    mine = await add_image(store, vault, media_dir, "alice", slot="face")
    b1 = await add_image(store, vault, media_dir, "alice", brand.id)
    b2 = await add_image(store, vault, media_dir, "alice", brand.id)
    in_brand = ctx("alice", brand.id)

    first = await call("me.setPrimary", in_brand, {"mediaId": b1, "slot": "face"})
    assert first == {"mediaId": b1, "slot": "face", "previousMediaId": None}
    second = await call("me.setPrimary", in_brand, {"mediaId": b2, "slot": "face"})
    assert second["previousMediaId"] == b1

    brand_slots = {
        i["mediaId"]: i["primarySlot"]
        for i in (await call("me.listReferenceImages", in_brand))["images"]
    }
    assert brand_slots == {b1: None, b2: "face"}
    personal = (await call("me.listReferenceImages", ctx("alice")))["images"]
    assert [(i["mediaId"], i["primarySlot"]) for i in personal] == [(mine, "face")]

    # A personal image id is unknown in the brand space: no reaching across.
    with pytest.raises(NotFoundError, match=mine):
        await call("me.setPrimary", in_brand, {"mediaId": mine, "slot": "face"})


async def test_other_members_images_are_not_yours(
    call: Caller, store: Store, vault: LocalKeyVault, media_dir: Path
) -> None:
    team = await store.create_space("alice", "team", "Team")
    await store.add_member(team.id, "bob")
    alices = await add_image(store, vault, media_dir, "alice", team.id)
    assert await call("me.listReferenceImages", ctx("bob", team.id)) == {"images": []}
    with pytest.raises(NotFoundError):
        await call("me.setPrimary", ctx("bob", team.id), {"mediaId": alices, "slot": "face"})


async def test_non_member_is_refused(call: Caller, store: Store) -> None:
    brand = await store.create_space("alice", "brand", "Alice Co")
    await call("todo.create", ctx("alice", brand.id), {"title": "launch"})
    for space in (brand.id, "personal:alice", "no-such-space"):
        with pytest.raises(NotAMemberError, match=f"user 'bob' is not a member of space '{space}'"):
            await call("todo.list", ctx("bob", space))
        with pytest.raises(NotAMemberError):
            await call("todo.create", ctx("bob", space), {"title": "sneaky"})
    assert len((await call("todo.list", ctx("alice", brand.id)))["todos"]) == 1


async def test_shared_space_rows_are_shared_personal_rows_are_not(
    call: Caller, store: Store
) -> None:
    family = await store.create_space("alice", "family", "Home")
    await store.add_member(family.id, "bob")
    await call("todo.create", ctx("alice", family.id), {"title": "groceries"})
    await call("todo.create", ctx("alice"), {"title": "alice only"})
    bobs = await call("todo.list", ctx("bob", family.id))
    assert [t["title"] for t in bobs["todos"]] == ["groceries"]
    assert (await call("todo.list", ctx("bob")))["todos"] == []


async def test_viewer_reads_but_cannot_write(call: Caller, store: Store) -> None:
    club = await store.create_space("alice", "club", "Chess")
    await store.add_member(club.id, "vera", "viewer")
    await call("habits.create", ctx("alice", club.id), {"name": "Puzzle a day"})
    assert len((await call("habits.list", ctx("vera", club.id)))["habits"]) == 1
    with pytest.raises(PermissionDeniedError, match="read-only"):
        await call("habits.create", ctx("vera", club.id), {"name": "x"})


async def test_spaces_list_and_personal_space_on_first_use(call: Caller, store: Store) -> None:
    first = await call("spaces.list", ctx("nina"))
    assert first == {
        "activeSpaceId": "personal:nina",
        "spaces": [
            {
                "id": "personal:nina",
                "type": "personal",
                "name": "Personal",
                "role": "owner",
                "active": True,
            }
        ],
    }
    team = await store.create_space("omar", "practice", "Clinic")
    await store.add_member(team.id, "nina", "admin")
    listed = await call("spaces.list", ctx("nina", team.id))
    assert [(s["type"], s["role"], s["active"]) for s in listed["spaces"]] == [
        ("personal", "owner", False),
        ("practice", "admin", True),
    ]


async def test_space_rules(store: Store) -> None:
    with pytest.raises(ToolkitError, match="unknown space type"):
        await store.create_space("a", "guild", "x")
    with pytest.raises(ToolkitError, match="created automatically"):
        await store.create_space("a", "personal", "x")
    await store.personal_space("a")
    with pytest.raises(PermissionDeniedError, match="exactly one member"):
        await store.add_member("personal:a", "b")
    with pytest.raises(ToolkitError, match="unknown role"):
        await store.add_member((await store.create_space("a", "team", "t")).id, "b", "boss")
