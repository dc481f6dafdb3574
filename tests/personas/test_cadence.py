"""Cadence logic with a fake clock: hourly, daily, weekdays (Monday to Friday), pause switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from personas.cadence import due_personas, is_due, next_due
from tests.personas.conftest import MakePersona

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def test_a_persona_that_never_ran_is_due() -> None:
    assert is_due("hourly", None, MONDAY)
    assert is_due("daily", None, MONDAY)
    assert is_due("weekdays", None, MONDAY)
    assert not is_due("weekdays", None, SATURDAY)


@pytest.mark.parametrize(
    ("cadence", "interval"), [("hourly", H), ("daily", 24 * H), ("weekdays", 24 * H)]
)
def test_due_only_after_more_than_the_interval(cadence: str, interval: timedelta) -> None:
    clock = FakeClock(MONDAY)
    last = clock()
    clock.advance(interval - timedelta(seconds=1))
    assert not is_due(cadence, last, clock())  # type: ignore[arg-type]
    clock.advance(timedelta(seconds=1))
    assert not is_due(cadence, last, clock()), "exactly the interval is not more than it"  # type: ignore[arg-type]
    clock.advance(timedelta(seconds=1))
    assert is_due(cadence, last, clock())  # type: ignore[arg-type]


def test_weekdays_skip_the_weekend_and_resume_on_monday() -> None:
    friday = MONDAY + timedelta(days=4)
    assert is_due("weekdays", friday - 25 * H, friday)
    clock = FakeClock(friday)
    seen = []
    for _ in range(4 * 24):
        clock.advance(H)
        if is_due("weekdays", friday, clock()):
            seen.append(clock())
    assert seen, "due again after the weekend"
    assert all(t.weekday() < 5 for t in seen)
    assert seen[0] == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 00:00
    assert is_due("daily", friday, friday + 25 * H), "daily does not care for weekends"


def test_weekdays_count_in_the_personas_time_zone(make_persona: MakePersona) -> None:
    tokyo = make_persona(cadence="weekdays", timezone="Asia/Tokyo")
    friday_late_utc = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # Saturday 05:00 in Tokyo
    assert is_due("weekdays", None, friday_late_utc)
    assert not is_due("weekdays", None, friday_late_utc, tokyo.zone)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_due("daily", None, datetime(2026, 1, 1))


def test_due_personas_with_pause_switches(make_persona: MakePersona) -> None:
    hourly = make_persona(id="h", cadence="hourly")
    daily = make_persona(id="d", cadence="daily")
    weekdays = make_persona(id="w", cadence="weekdays")
    clock = FakeClock(SATURDAY)
    last = {"h": clock() - 2 * H, "d": clock() - 2 * H, "w": clock() - 48 * H}
    checks = {c.persona_id: c for c in due_personas([hourly, daily, weekdays], last, clock())}
    assert checks["h"].due and not checks["d"].due and not checks["w"].due
    assert checks["w"].reason == "weekdays: not on a weekend"
    assert "last ran 2h 00m ago" in checks["d"].reason

    paused = due_personas([hourly, daily], last, clock(), paused=["h"])
    assert [c.due for c in paused] == [False, False]
    assert paused[0].reason == "paused"
    clock.advance(24 * H)
    everyone = due_personas([hourly, daily], last, clock(), all_paused=True)
    assert not any(c.due for c in everyone)
    assert all(c.due for c in due_personas([hourly, daily], last, clock()))


def test_next_due(make_persona: MakePersona) -> None:
    friday = MONDAY + timedelta(days=4)
    assert next_due("hourly", friday, friday) == friday + H + timedelta(seconds=1)
    assert next_due("weekdays", friday, friday + H) == datetime(2026, 11, 30, tzinfo=UTC)
    assert next_due("daily", None, friday) == friday
