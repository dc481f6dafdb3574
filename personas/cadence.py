"""When a persona is due: pure functions of (cadence, last session, now), the clock injected.

- `hourly`: more than one hour since the last session.
- `daily`: more than 24 hours since the last session.
- `weekdays`: like daily, and only Monday to Friday in the persona's time zone.

A persona that never ran is due at once (on a weekday, for `weekdays`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from personas.config import Cadence, PersonaConfig

INTERVALS: dict[Cadence, timedelta] = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(hours=24),
    "weekdays": timedelta(hours=24),
}


def is_due(
    cadence: Cadence, last: datetime | None, now: datetime, zone: tzinfo | None = None
) -> bool:
    """True when a persona of this cadence, last run at `last`, should run at `now`."""
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    if cadence == "weekdays" and now.astimezone(zone or UTC).weekday() >= 5:
        return False
    if last is None:
        return True
    return now - last > INTERVALS[cadence]


def next_due(
    cadence: Cadence, last: datetime | None, now: datetime, zone: tzinfo | None = None
) -> datetime:
    """The earliest time at or after `now` when the persona is (or becomes) due, to the minute."""
    if is_due(cadence, last, now, zone):
        return now
    at = now if last is None else max(now, last + INTERVALS[cadence] + timedelta(seconds=1))
    for _ in range(8 * 24):
        if is_due(cadence, last, at, zone):
            return at
        local = at.astimezone(zone or UTC)
        at = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        at = at.astimezone(UTC)
    raise AssertionError("no due time within eight days")  # pragma: no cover


@dataclass(frozen=True)
class DueCheck:
    """Why a persona is or is not due now."""

    persona_id: str
    due: bool
    reason: str
    last: datetime | None


def check(
    persona: PersonaConfig,
    last: datetime | None,
    now: datetime,
    *,
    paused: bool = False,
) -> DueCheck:
    """The due decision for one persona, with a reason for the operator."""
    if paused:
        return DueCheck(persona.id, False, "paused", last)
    due = is_due(persona.cadence, last, now, persona.zone)
    if due:
        reason = "never ran" if last is None else f"{persona.cadence}: last ran {ago(now - last)}"
    elif persona.cadence == "weekdays" and now.astimezone(persona.zone).weekday() >= 5:
        reason = "weekdays: not on a weekend"
    else:
        assert last is not None
        reason = f"{persona.cadence}: last ran {ago(now - last)}"
    return DueCheck(persona.id, due, reason, last)


def due_personas(
    personas: Iterable[PersonaConfig],
    last_sessions: Mapping[str, datetime],
    now: datetime,
    *,
    paused: Iterable[str] = (),
    all_paused: bool = False,
) -> list[DueCheck]:
    """A decision per persona; the pause switch (all, or per persona) wins over the cadence."""
    stopped = set(paused)
    return [
        check(p, last_sessions.get(p.id), now, paused=all_paused or p.id in stopped)
        for p in personas
    ]


def ago(delta: timedelta) -> str:
    """A short human duration: `3h 05m ago`."""
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24}d {hours % 24}h ago"
    return f"{hours}h {minutes:02d}m ago"
