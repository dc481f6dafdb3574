"""The tool modules end to end through their specs, on every store backend."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from tk_helpers import Caller, ctx

from planner.tools import ToolRegistry
from toolkits import default_registry, schema
from toolkits.crypto import is_ciphertext
from toolkits.errors import (
    DecryptionError,
    NotFoundError,
    PermissionDeniedError,
    ToolkitError,
    ZeroKnowledgeUserError,
)
from toolkits.keyvault import LocalKeyVault
from toolkits.store import Store

EXPECTED_TOOLS = {
    "spaces.list": ("user-space", "read"),
    "habits.create": ("user-space", "write"),
    "habits.update": ("user-space", "write"),
    "habits.archive": ("user-space", "write"),
    "habits.list": ("user-space", "read"),
    "todo.create": ("user-space", "write"),
    "todo.complete": ("user-space", "write"),
    "todo.list": ("user-space", "read"),
    "todo.delete": ("user-space", "destructive"),
    "notes.create": ("user-space", "write"),
    "notes.search": ("user-space", "read"),
    "journal.add": ("user-space", "write"),
    "me.listReferenceImages": ("user-space", "read"),
    "me.setPrimary": ("user-space", "write"),
    "me.generateWithReference": ("user-space", "write"),
    "admin.users.list": ("admin", "read"),
}


def test_registry_has_exactly_the_issue_tools(registry: ToolRegistry) -> None:
    assert {s.name: (s.scope, s.policy_hint) for s in registry} == EXPECTED_TOOLS
    for spec in registry:
        assert len(spec.description) > 30, spec.name
        assert spec.input_schema["type"] == "object"
    assert len(registry.to_openai()) == len(EXPECTED_TOOLS)


async def test_todo_lifecycle_and_encryption_at_rest(call: Caller, store: Store) -> None:
    alice = ctx("alice")
    made = await call(
        "todo.create",
        alice,
        {"title": "Call the bank", "description": "about the card", "dueDate": "2025-02-01"},
    )
    assert made["title"] == "Call the bank" and made["dueDate"] == "2025-02-01"
    assert made["completed"] is False and made["priority"] == "normal"
    other = await call("todo.create", alice, {"title": "Water plants"})

    async with store.transaction() as conn:
        raw = (
            await conn.execute(sa.select(schema.todo).where(schema.todo.c.id == made["id"]))
        ).one()
    assert is_ciphertext(raw.title) and is_ciphertext(raw.description)
    assert raw.space_id == "personal:alice" and raw.author_id == "alice"
    assert raw.visibility == "private"

    done = await call("todo.complete", alice, {"todoId": made["id"]})
    assert done["completed"] is True and done["completedAt"] is not None
    again = await call("todo.complete", alice, {"todoId": made["id"]})
    assert again["completedAt"] == done["completedAt"]

    assert [t["id"] for t in (await call("todo.list", alice))["todos"]] == [other["id"]]
    assert [t["id"] for t in (await call("todo.list", alice, {"status": "done"}))["todos"]] == [
        made["id"]
    ]
    assert await call("todo.delete", alice, {"todoId": other["id"]}) == {"deletedId": other["id"]}
    assert (await call("todo.list", alice, {"status": "all"}))["todos"][0]["id"] == made["id"]
    assert len((await call("todo.list", alice, {"status": "all"}))["todos"]) == 1
    with pytest.raises(NotFoundError, match="no to-do with id"):
        await call("todo.complete", alice, {"todoId": other["id"]})


async def test_habits(call: Caller) -> None:
    bob = ctx("bob")
    h = await call("habits.create", bob, {"name": "Stretch", "cadence": "daily"})
    assert h["target"] == 1 and h["archived"] is False
    h2 = await call("habits.update", bob, {"habitId": h["id"], "target": 2, "name": "Stretch!"})
    assert (h2["name"], h2["target"], h2["cadence"]) == ("Stretch!", 2, "daily")
    with pytest.raises(ToolkitError, match="nothing to update"):
        await call("habits.update", bob, {"habitId": h["id"]})
    await call("habits.create", bob, {"name": "Floss"})
    await call("habits.archive", bob, {"habitId": h["id"]})
    assert [x["name"] for x in (await call("habits.list", bob))["habits"]] == ["Floss"]
    listed = await call("habits.list", bob, {"includeArchived": True})
    assert [x["name"] for x in listed["habits"]] == ["Stretch!", "Floss"]


async def test_notes_search_decrypts_then_matches(call: Caller, store: Store) -> None:
    carol = ctx("carol")
    await call("notes.create", carol, {"title": "Trip", "content": "Lisbon in April, trams"})
    await call("notes.create", carol, {"title": "Books", "content": "Read Piranesi in april"})
    await call("notes.create", carol, {"title": "Groceries", "content": "eggs, milk"})
    found = await call("notes.search", carol, {"query": "APRIL"})
    assert [m["title"] for m in found["matches"]] == ["Books", "Trip"]
    assert found["searched"] == 3
    assert "april" in found["matches"][0]["snippet"].lower()
    both = await call("notes.search", carol, {"query": "lisbon trams"})
    assert [m["title"] for m in both["matches"]] == ["Trip"]
    async with store.transaction() as conn:
        contents = (await conn.execute(sa.select(schema.notes.c.content))).scalars().all()
    assert all(is_ciphertext(c) and "Lisbon" not in c for c in contents)


async def test_journal_add(call: Caller) -> None:
    entry = await call("journal.add", ctx("dan"), {"content": "Slept well.", "mood": "rested"})
    assert entry["mood"] == "rested" and len(entry["entryDate"]) == 10
    dated = await call("journal.add", ctx("dan"), {"content": "x", "entryDate": "2024-12-31"})
    assert dated["entryDate"] == "2024-12-31"


async def test_inputs_are_validated_camel_case(registry: ToolRegistry) -> None:
    spec = registry.get("todo.create")
    assert spec is not None
    assert set(spec.input_schema["properties"]) == {"title", "description", "dueDate", "priority"}
    with pytest.raises(ValueError, match="Extra inputs"):
        spec.input_model.model_validate({"title": "t", "bogus": 1})


async def test_tampered_ciphertext_is_a_clear_error(call: Caller, store: Store) -> None:
    made = await call("todo.create", ctx("erin"), {"title": "secret"})
    async with store.transaction() as conn:
        title = await conn.scalar(sa.select(schema.todo.c.title))
        assert title is not None
        bad = title[:-6] + ("AAAA==" if not title.endswith("AAAA==") else "BBBB==")
        await conn.execute(sa.update(schema.todo).values(title=bad))
    with pytest.raises(DecryptionError, match=f"todo {made['id']}.title"):
        await call("todo.list", ctx("erin"))


async def test_zero_knowledge_user_gets_a_tool_error(
    call: Caller, store: Store, vault: LocalKeyVault
) -> None:
    await call("notes.create", ctx("zed"), {"title": "before", "content": "zk switch"})
    await vault.mark_zero_knowledge("zed")
    with pytest.raises(ZeroKnowledgeUserError, match="cannot be read or written server-side"):
        await call("notes.search", ctx("zed"), {"query": "zk"})
    with pytest.raises(ZeroKnowledgeUserError):
        await call("todo.create", ctx("zed"), {"title": "x"})
    # Unencrypted modules keep working for a zero-knowledge user.
    assert (await call("habits.create", ctx("zed"), {"name": "walk"}))["name"] == "walk"


async def test_admin_tool_refuses_everyone_but_an_admin(call: Caller, store: Store) -> None:
    await store.grant_credits("frank", 5)
    for invoker in ("mission", "mcp"):
        with pytest.raises(PermissionDeniedError, match="administrators only"):
            await call("admin.users.list", ctx("frank", invoker=invoker))
    listed = await call("admin.users.list", ctx("root", invoker="admin"))
    assert {"id": "frank", "credits": 5, "isAdmin": False} in listed["users"]


async def test_registry_takes_everything_as_arguments(store: Store, tmp_path: object) -> None:
    a = default_registry(store, LocalKeyVault(tmp_path / "a.json"))  # type: ignore[operator]
    b = default_registry(store, LocalKeyVault(tmp_path / "b.json"))  # type: ignore[operator]
    assert a.names == b.names and a.get("todo.create") is not b.get("todo.create")


async def test_concurrent_calls_from_a_new_user(call: Caller) -> None:
    alice = ctx("alice")
    await asyncio.gather(*(call("todo.create", alice, {"title": f"t{i}"}) for i in range(5)))
    results = await asyncio.gather(
        *(call("todo.list", alice) for _ in range(10)),
        *(call("habits.create", alice, {"name": f"h{i}"}) for i in range(5)),
    )
    assert all(len(r["todos"]) == 5 for r in results[:10])
    assert len((await call("habits.list", alice))["habits"]) == 5
