"""Sync types and the field-by-field last-writer-wins merge (pure; no I/O)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Stamp = tuple[int, str]
"""When and by whom a field was last written: (timestamp in ms, actor id)."""


@dataclass(frozen=True)
class FieldChange:
    """A new value for one field, stamped with the writer's timestamp (ms)."""

    value: Any
    ts: int


@dataclass(frozen=True)
class Change:
    """A client's edit of one row: some fields, each with its own timestamp."""

    entity: str
    row_id: str
    actor: str
    fields: Mapping[str, FieldChange]


@dataclass(frozen=True)
class ChangeOutcome:
    """What a push did with one change: which fields won and which lost."""

    entity: str
    row_id: str
    created: bool
    accepted: tuple[str, ...]
    rejected: tuple[str, ...]


@dataclass(frozen=True)
class PushResult:
    """The outcome of every change of a push, in order."""

    outcomes: tuple[ChangeOutcome, ...]


@dataclass(frozen=True)
class PulledRow:
    """One row's current state as a pull returns it (tombstones included)."""

    entity: str
    row_id: str
    author_id: str
    seq: int
    values: dict[str, Any]
    clock: dict[str, Stamp]


@dataclass(frozen=True)
class PullResult:
    """Rows changed after the cursor, the cursor to pass next time, and whether more wait."""

    rows: tuple[PulledRow, ...]
    cursor: int
    has_more: bool = False


@dataclass(frozen=True)
class Merge:
    """The result of merging a change into a row: values to write and the row's new clock."""

    values: dict[str, Any] = field(default_factory=dict)
    clock: dict[str, Stamp] = field(default_factory=dict)
    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()


def wins(incoming: Stamp, current: Stamp | None) -> bool:
    """Last writer wins: the later timestamp, and on a tie the greater actor id."""
    return current is None or incoming > current


def merge(clock: Mapping[str, Stamp], change: Mapping[str, FieldChange], actor: str) -> Merge:
    """Merge field by field; a field is taken only when its stamp beats the stored one."""
    new_clock = dict(clock)
    values: dict[str, Any] = {}
    accepted: list[str] = []
    rejected: list[str] = []
    for name in sorted(change):
        stamp: Stamp = (change[name].ts, actor)
        if wins(stamp, clock.get(name)):
            values[name] = change[name].value
            new_clock[name] = stamp
            accepted.append(name)
        else:
            rejected.append(name)
    return Merge(values, new_clock, tuple(accepted), tuple(rejected))


def encode_clock(clock: Mapping[str, Stamp]) -> str:
    """The clock as stored: a JSON object of field -> [ts, actor]."""
    return json.dumps({k: [ts, actor] for k, (ts, actor) in sorted(clock.items())})


def decode_clock(text: str | None) -> dict[str, Stamp]:
    """The stored clock back as field -> (ts, actor)."""
    if not text:
        return {}
    raw: dict[str, list[Any]] = json.loads(text)
    return {k: (int(v[0]), str(v[1])) for k, v in raw.items()}
