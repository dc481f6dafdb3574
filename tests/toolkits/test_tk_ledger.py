"""Effectively-once write tools: a second execution of a call id has no second effect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tk_helpers import Caller, add_image, ctx

from planner.tools import ToolContext, ToolRegistry
from toolkits import schema
from toolkits.crypto import is_ciphertext
from toolkits.errors import IdempotencyConflictError, NotFoundError
from toolkits.keyvault import LocalKeyVault
from toolkits.store import Store

Setup = Callable[[Caller, ToolContext, Store, LocalKeyVault, Path], Awaitable[dict[str, Any]]]


async def effects(store: Store) -> dict[str, int]:
    """Everything a write can change: rows per table, the change sequence, credits."""
    counted = (schema.habits, schema.todo, schema.notes, schema.journal, schema.me_images)
    async with store.transaction() as conn:
        out = {
            t.name: int(await conn.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
            for t in counted
        }
        out["seq"] = int(await conn.scalar(sa.select(schema.sync_counter.c.value)) or 0)
        total = await conn.scalar(sa.select(sa.func.sum(schema.users.c.credits)))
        out["credits"] = int(total or 0)
    return out


async def _habit(call: Caller, c: ToolContext, *_: Any) -> dict[str, Any]:
    return {"habitId": (await call("habits.create", c, {"name": "Run"}))["id"]}


async def _todo(call: Caller, c: ToolContext, *_: Any) -> dict[str, Any]:
    return {"todoId": (await call("todo.create", c, {"title": "Renew passport"}))["id"]}


async def _image(
    _call: Caller, c: ToolContext, store: Store, vault: LocalKeyVault, media_dir: Path
) -> dict[str, Any]:
    await add_image(store, vault, media_dir, c.user_id, slot="face")
    return {"mediaId": await add_image(store, vault, media_dir, c.user_id), "slot": "face"}


async def _nothing(*_: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    """A write tool, what to set up first, and its arguments beyond what setup returns."""

    tool: str
    args: dict[str, Any]
    setup: Setup = _nothing


WRITE_CASES = [
    Case("habits.create", {"name": "Stretch", "cadence": "weekly"}),
    Case("habits.update", {"target": 3}, _habit),
    Case("habits.archive", {}, _habit),
    Case("todo.create", {"title": "Call the bank", "description": "card"}),
    Case("todo.complete", {}, _todo),
    Case("todo.delete", {}, _todo),
    Case("notes.create", {"title": "Trip", "content": "Lisbon in April"}),
    Case("journal.add", {"content": "Slept well.", "mood": "rested"}),
    Case("me.setPrimary", {}, _image),
]


def test_every_write_tool_has_a_case(registry: ToolRegistry) -> None:
    writes = {s.name for s in registry if s.policy_hint != "read"}
    assert writes == {c.tool for c in WRITE_CASES} | {"me.generateWithReference"}


@pytest.mark.parametrize("case", WRITE_CASES, ids=[c.tool for c in WRITE_CASES])
async def test_second_execution_of_a_call_returns_the_record_with_no_second_effect(
    case: Case,
    call: Caller,
    store: Store,
    vault: LocalKeyVault,
    media_dir: Path,
) -> None:
    alice = replace(ctx("alice"), run_id="run-1", call_id="toolu_1")
    args = {**await case.setup(call, ctx("alice"), store, vault, media_dir), **case.args}
    before = await effects(store)
    first = await call(case.tool, alice, args)
    after_first = await effects(store)
    assert after_first != before
    again = await call(case.tool, alice, args)
    assert again == first
    assert await effects(store) == after_first


async def test_each_call_id_is_its_own_call(call: Caller, store: Store) -> None:
    alice = replace(ctx("alice"), run_id="run-1")
    for call_id in ("a", "b", "a", "b", "c"):
        await call("todo.create", replace(alice, call_id=call_id), {"title": "Water plants"})
    assert (await effects(store))["todo"] == 3
    # the same call id in another run, or for another user, is another call too
    await call("todo.create", replace(alice, run_id="run-2", call_id="a"), {"title": "x"})
    await call("todo.create", replace(ctx("bob"), run_id="run-1", call_id="a"), {"title": "x"})
    assert (await effects(store))["todo"] == 5
    # without a call id nothing is recorded and every execution runs
    for _ in range(2):
        await call("todo.create", ctx("alice"), {"title": "no id"})
    assert (await effects(store))["todo"] == 7


async def test_a_call_id_reused_for_another_call_is_refused(call: Caller, store: Store) -> None:
    alice = replace(ctx("alice"), run_id="run-1", call_id="c1")
    await call("todo.create", alice, {"title": "first"})
    with pytest.raises(IdempotencyConflictError, match=r"'c1' was already used for todo\.create"):
        await call("notes.create", alice, {"title": "t", "content": "c"})
    with pytest.raises(IdempotencyConflictError, match="with other arguments"):
        await call("todo.create", alice, {"title": "second"})
    assert ((await effects(store))["todo"], (await effects(store))["notes"]) == (1, 0)


async def test_a_failed_call_records_nothing(call: Caller, store: Store) -> None:
    alice = replace(ctx("alice"), run_id="run-1", call_id="c1")
    with pytest.raises(NotFoundError):
        await call("todo.delete", alice, {"todoId": "missing"})
    async with store.transaction() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(schema.tool_calls)) == 0
    # c1 is still free: the failed execution claimed nothing
    assert (await call("todo.create", alice, {"title": "t"}))["title"] == "t"


async def test_records_are_sealed_under_the_users_key(call: Caller, store: Store) -> None:
    alice = replace(ctx("alice"), run_id="run-1", call_id="c1")
    await call("todo.create", alice, {"title": "Tell nobody: surprise party"})
    async with store.transaction() as conn:
        row = (await conn.execute(sa.select(schema.tool_calls))).one()
    assert (row.user_id, row.run_id, row.call_id, row.tool) == (
        "alice",
        "run-1",
        "c1",
        "todo.create",
    )
    assert is_ciphertext(row.result) and "surprise" not in row.result
    assert row.completed_at is not None and row.held_credits == 0


async def test_zero_knowledge_users_writes_are_once_too(
    call: Caller, store: Store, vault: LocalKeyVault
) -> None:
    await vault.mark_zero_knowledge("zoe")
    zoe = replace(ctx("zoe"), run_id="run-1", call_id="c1")
    first = await call("habits.create", zoe, {"name": "walk"})
    assert await call("habits.create", zoe, {"name": "walk"}) == first
    assert (await effects(store))["habits"] == 1


async def test_concurrent_executions_of_one_call_make_one_effect(
    call: Caller, store: Store
) -> None:
    alice = replace(ctx("alice"), run_id="run-1", call_id="c1")
    await store.personal_space("alice")
    results = await asyncio.gather(
        *(call("notes.create", alice, {"title": "once", "content": "only"}) for _ in range(6))
    )
    assert all(r == results[0] for r in results)
    assert (await effects(store))["notes"] == 1
