"""Sync: push merges field by field (last writer wins, ties by actor), pull reads after a cursor."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from tk_helpers import Caller, ctx

from toolkits.crypto import encrypt_text
from toolkits.errors import InvalidChangeError, NotAMemberError
from toolkits.store import Store
from toolkits.sync import Change, FieldChange, merge, wins


def change(row_id: str, actor: str, entity: str = "habits", **fields: tuple[Any, int]) -> Change:
    """A change of `fields` given as name=(value, ts)."""
    return Change(entity, row_id, actor, {k: FieldChange(v, ts) for k, (v, ts) in fields.items()})


def test_wins_is_last_writer_then_greater_actor() -> None:
    assert wins((2, "a"), (1, "z"))
    assert not wins((1, "z"), (2, "a"))
    assert wins((5, "b"), (5, "a"))
    assert not wins((5, "a"), (5, "b"))
    assert not wins((5, "a"), (5, "a"))
    assert wins((0, ""), None)


def test_merge_takes_each_field_on_its_own() -> None:
    clock = {"name": (10, "a"), "target": (30, "a")}
    out = merge(clock, {"name": FieldChange("n", 20), "target": FieldChange(9, 20)}, "b")
    assert out.values == {"name": "n"}
    assert out.accepted == ("name",) and out.rejected == ("target",)
    assert out.clock == {"name": (20, "b"), "target": (30, "a")}


async def _habit(store: Store, space: str = "personal") -> dict[str, Any]:
    async with store.scoped(ctx("alice", space)) as s:
        rows = await s.select("habits", include_deleted=True)
    assert len(rows) == 1
    return rows[0]


async def test_concurrent_field_edits_merge(store: Store) -> None:
    alice = ctx("alice")
    base = change("h1", "phone", name=("Run", 100), target=(1, 100), description=("", 100))
    created = await store.push(alice, [base])
    assert created.outcomes[0].created
    phone = change("h1", "phone", name=("Run 5k", 200))
    laptop = change("h1", "laptop", name=("Jog", 180), target=(3, 150))
    result = await store.push(alice, [phone, laptop])
    assert [(o.accepted, o.rejected) for o in result.outcomes] == [
        (("name",), ()),
        (("target",), ("name",)),
    ]
    row = await _habit(store)
    assert (row["name"], row["target"]) == ("Run 5k", 3)
    assert row["clock"]["name"] == (200, "phone") and row["clock"]["target"] == (150, "laptop")


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
async def test_merge_is_order_independent_and_ties_go_to_the_greater_actor(
    store: Store, order: tuple[int, ...]
) -> None:
    edits = [
        change("h1", "alice", name=("A", 300), target=(2, 100)),
        change("h1", "bob", name=("B", 300), description=("from bob", 50)),
        change("h1", "carol", name=("C", 299), target=(7, 100), description=("from carol", 60)),
    ]
    await store.push(ctx("alice"), [change("h1", "seed", name=("seed", 1), target=(1, 1))])
    for i in order:
        await store.push(ctx("alice"), [edits[i]])
    row = await _habit(store)
    # name: alice and bob tie at 300 -> bob (greater actor); target: tie at 100 -> carol.
    assert (row["name"], row["target"], row["description"]) == ("B", 7, "from carol")


async def test_server_writes_follow_stored_stamps(call: Caller, store: Store) -> None:
    far_future = 99_999_999_999_999
    await store.push(ctx("alice"), [change("h1", "phone", name=("Run", far_future))])
    await call("habits.update", ctx("alice"), {"habitId": "h1", "name": "Walk"})
    assert (await _habit(store))["name"] == "Walk"


async def test_pull_returns_what_changed_after_the_cursor(call: Caller, store: Store) -> None:
    alice = ctx("alice")
    await store.push(
        alice, [change("h1", "p", name=("Run", 10)), change("h2", "p", name=("Row", 10))]
    )
    first = await store.pull(alice, 0)
    assert {r.row_id for r in first.rows} == {"h1", "h2"} and not first.has_more
    assert (await store.pull(alice, first.cursor)).rows == ()

    await store.push(alice, [change("h2", "p", name=("Rowing", 20))])
    todo = await call("todo.create", alice, {"title": "t"})
    await store.push(alice, [change("h1", "p", deleted_at=(25, 25))])
    second = await store.pull(alice, first.cursor)
    assert [(r.entity, r.row_id) for r in second.rows] == [
        ("habits", "h2"),
        ("todo", todo["id"]),
        ("habits", "h1"),
    ]
    tombstone = second.rows[-1]
    assert tombstone.values["deleted_at"] == 25 and tombstone.clock["deleted_at"] == (25, "p")
    assert (await call("habits.list", alice))["habits"][0]["id"] == "h2"

    page = await store.pull(alice, 0, limit=2)
    assert len(page.rows) == 2 and page.has_more
    rest = await store.pull(alice, page.cursor, limit=2)
    assert len(rest.rows) == 1 and not rest.has_more


async def test_pull_is_scoped_to_space_and_visibility(store: Store) -> None:
    team = await store.create_space("alice", "team", "T")
    await store.add_member(team.id, "bob")
    in_team = ctx("alice", team.id)
    await store.push(in_team, [change("shared", "a", name=("Shared", 1))])
    await store.push(in_team, [change("mine", "a", name=("Mine", 1), visibility=("private", 1))])
    await store.push(ctx("alice"), [change("personal", "a", name=("Personal", 1))])
    bobs = await store.pull(ctx("bob", team.id), 0)
    assert [r.row_id for r in bobs.rows] == ["shared"]
    alices = await store.pull(in_team, 0)
    assert {r.row_id for r in alices.rows} == {"shared", "mine"}


async def test_encrypted_fields_must_be_pushed_sealed(store: Store) -> None:
    alice = ctx("alice")
    with pytest.raises(InvalidChangeError, match=r"notes.title must be sent encrypted"):
        await store.push(alice, [change("n1", "p", "notes", title=("plain", 1), content=("x", 1))])
    key = bytes(32)
    sealed = change(
        "n1", "p", "notes", title=(encrypt_text(key, "t"), 1), content=(encrypt_text(key, "c"), 1)
    )
    assert (await store.push(alice, [sealed])).outcomes[0].created


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (change("x", "p", "widgets", name=("a", 1)), "unknown entity"),
        (change("x", "p", colour=("red", 1)), "no settable field colour"),
        (change("x", "p", space_id=("personal:bob", 1)), "no settable field space_id"),
        (change("x", "p", name=("a", 1), target=("3", 1)), "target must be int"),
        (change("x", "p", name=("a", 1), archived=(1, 1)), "archived must be bool"),
        (change("x", "p", name=(None, 1)), "cannot be null"),
        (change("x", "p", target=(2, 1)), "needs name"),
        (change("x", "p", name=("a", 1), visibility=("public", 1)), "visibility must be"),
    ],
)
async def test_invalid_pushes_apply_nothing(store: Store, bad: Change, message: str) -> None:
    good = change("ok", "p", name=("fine", 1))
    with pytest.raises(InvalidChangeError, match=message):
        await store.push(ctx("alice"), [good, bad])
    assert (await store.pull(ctx("alice"), 0)).rows == ()


async def test_push_cannot_touch_rows_of_other_spaces(store: Store) -> None:
    await store.push(ctx("bob"), [change("h1", "b", name=("Bob's", 1))])
    with pytest.raises(InvalidChangeError, match="not a row of this space"):
        await store.push(ctx("alice"), [change("h1", "a", name=("hijack", 2))])
    with pytest.raises(NotAMemberError):
        await store.push(ctx("alice", "personal:bob"), [change("h1", "a", name=("x", 3))])
    bobs = await store.pull(ctx("bob"), 0)
    assert bobs.rows[0].values["name"] == "Bob's"
