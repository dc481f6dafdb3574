"""Mission schedules: which missions run when, as DBOS cron strings (seconds first).

Each mission with a `schedule` (cron) or `every` (interval) becomes a DBOS schedule named after
the mission id; `missions.schedule_dbos` installs them. This module is the pure part: reading
the files, converting intervals, finding a missed slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from croniter import croniter  # type: ignore[import-untyped]

from missions.config import MissionConfig, load_mission, mission_files
from missions.errors import MissionConfigError, ScheduleIntervalError


@dataclass(frozen=True)
class ScheduleEntry:
    """One mission's schedule: its id, its file and a DBOS cron string (seconds first)."""

    mission_id: str
    path: Path
    cron: str


def every_to_cron(seconds: int) -> str:
    """A 6-field cron (seconds first) firing every `seconds`, aligned to the clock.

    Like any cron, an interval that does not divide its unit evenly (`7m`) restarts at the top
    of the next unit; intervals no cron can express (`90s`) are rejected.
    """
    if seconds <= 0:
        raise ScheduleIntervalError(f"every: an interval must be positive, not {seconds}s")
    if seconds < 60:
        return f"*/{seconds} * * * * *"
    minutes, rest = divmod(seconds, 60)
    if not rest and minutes < 60:
        return f"0 */{minutes} * * * *"
    hours, rest = divmod(seconds, 3600)
    if not rest and hours < 24:
        return f"0 0 */{hours} * * *"
    days, rest = divmod(seconds, 86400)
    if not rest:
        return f"0 0 0 */{days} * *"
    raise ScheduleIntervalError(
        f"every: an interval of {seconds}s is not expressible as a cron; use s, m, h or d"
    )


def mission_cron(cfg: MissionConfig) -> str | None:
    """The mission's DBOS cron (seconds first), or None when it has no schedule."""
    if cfg.schedule is not None:
        fields = cfg.schedule.split()
        return cfg.schedule if len(fields) == 6 else "0 " + cfg.schedule
    seconds = cfg.every_seconds
    return every_to_cron(seconds) if seconds is not None else None


def _entry(path: Path) -> ScheduleEntry | None:
    """One file's schedule (None when it has none); MissionConfigError names file and field."""
    cfg = load_mission(path)
    try:
        cron = mission_cron(cfg)
    except ScheduleIntervalError as exc:
        raise MissionConfigError(f"{path}: {exc}") from exc
    if cron is None:
        return None
    if not croniter.is_valid(cron, second_at_beginning=True):
        raise MissionConfigError(f"{path}: schedule: {cron!r} is not a valid cron")
    return ScheduleEntry(cfg.id, path, cron)


def schedule_entries(target: Path) -> list[ScheduleEntry]:
    """The scheduled missions of a file or folder; bad files raise one MissionConfigError."""
    entries = []
    problems = []
    for path in mission_files(target):
        try:
            entry = _entry(path)
        except MissionConfigError as exc:
            problems.append(str(exc))
            continue
        if entry is not None:
            entries.append(entry)
    if problems:
        raise MissionConfigError("\n".join(problems))
    ids = [e.mission_id for e in entries]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise MissionConfigError(f"{target}: mission ids scheduled twice: {', '.join(dupes)}")
    return entries


def latest_missed_slot(cron: str, last_fired: datetime, now: datetime) -> datetime | None:
    """The latest slot after `last_fired` and at or before `now`, if any was missed."""
    latest: datetime = croniter(cron, now, second_at_beginning=True).get_prev(datetime)
    return latest if latest > last_fired else None
