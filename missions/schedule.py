"""Mission schedules as DBOS schedules: one firing per slot across every worker.

Each mission with a `schedule` (cron) or `every` (interval) becomes a DBOS schedule named after
the mission id. DBOS fires the workflow `mana.scheduled_run` with the id
`sched-<mission>-<slot time>`, so however many workers fire a slot, the slot runs once: that id
is the run id. Firings go through the queue `mana-missions`, whose per-worker concurrency bounds
how many runs a worker has in flight.

Missed slots (the scheduler was down): `skip` runs none of them; `once` runs the latest one
when the scheduler starts (its id is that slot's, so several workers starting still run it once).
Pause and resume set the schedule's status in the system database; every worker stops or
restarts firing it within its polling interval, and the status survives restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from croniter import croniter  # type: ignore[import-untyped]
from dbos import DBOS, DBOSClient
from sqlalchemy.exc import DBAPIError

from missions.config import MissionConfig, load_mission, mission_files
from missions.durable import APP_NAME, MISSION_QUEUE, Missed, MissionEngine, scheduled_workflow
from missions.errors import MissionConfigError

DEFAULT_CONCURRENCY = 4
QUEUE_POLL_S = 0.5
SCHEDULED_WORKFLOW = "mana.scheduled_run"


@dataclass(frozen=True)
class ScheduleEntry:
    """One mission's schedule: its id, its file and a DBOS cron string (seconds first)."""

    mission_id: str
    path: Path
    cron: str


class UnknownScheduleError(LookupError):
    """Pause or resume named a mission that has no schedule in the system database."""


def every_to_cron(seconds: int) -> str:
    """A 6-field cron (seconds first) firing every `seconds`, aligned to the clock.

    Like any cron, an interval that does not divide its unit evenly (`7m`) restarts at the top
    of the next unit; intervals no cron can express (`90s`) are rejected.
    """
    if seconds <= 0:
        raise ValueError("an interval must be positive")
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
    raise ValueError(f"an interval of {seconds}s is not expressible as a cron; use s, m, h or d")


def mission_cron(cfg: MissionConfig) -> str | None:
    """The mission's DBOS cron (seconds first), or None when it has no schedule."""
    if cfg.schedule is not None:
        fields = cfg.schedule.split()
        return cfg.schedule if len(fields) == 6 else "0 " + cfg.schedule
    seconds = cfg.every_seconds
    return every_to_cron(seconds) if seconds is not None else None


def schedule_entries(target: Path) -> list[ScheduleEntry]:
    """The scheduled missions of a file or folder; a bad file raises MissionConfigError."""
    entries = []
    problems = []
    for path in mission_files(target):
        try:
            cfg = load_mission(path)
            cron = mission_cron(cfg)
        except MissionConfigError as exc:
            problems.append(str(exc))
            continue
        except ValueError as exc:
            problems.append(f"{path}: every: {exc}")
            continue
        if cron is None:
            continue
        if not croniter.is_valid(cron, second_at_beginning=True):
            problems.append(f"{path}: schedule: {cron!r} is not a valid cron")
            continue
        entries.append(ScheduleEntry(cfg.id, path, cron))
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


def register_queue(concurrency: int = DEFAULT_CONCURRENCY) -> None:
    """The mission queue: at most `concurrency` scheduled runs in flight per worker."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    DBOS.register_queue(
        MISSION_QUEUE,
        worker_concurrency=concurrency,
        polling_interval_sec=QUEUE_POLL_S,
        on_conflict="always_update",
    )


def apply(entries: list[ScheduleEntry], *, missed: Missed = "skip") -> None:
    """Create or update the DBOS schedules (a paused one stays paused); drop stale ones."""
    wanted = {e.mission_id for e in entries}
    DBOS.apply_schedules(
        [
            {
                "schedule_name": e.mission_id,
                "workflow_fn": scheduled_workflow,
                "schedule": e.cron,
                "context": {"mission_id": e.mission_id, "path": str(e.path)},
                "queue_name": MISSION_QUEUE,
            }
            for e in entries
        ]
    )
    for sched in DBOS.list_schedules(workflow_name=SCHEDULED_WORKFLOW):
        if sched["schedule_name"] not in wanted:
            DBOS.delete_schedule(sched["schedule_name"])
    if missed == "once":
        now = datetime.now(UTC)
        for e in entries:
            run_latest_missed(e, now)


def run_latest_missed(entry: ScheduleEntry, now: datetime) -> str | None:
    """Enqueue the latest missed slot of an active schedule; returns its run id."""
    sched = DBOS.get_schedule(entry.mission_id)
    if sched is None or sched["status"] != "ACTIVE" or not sched["last_fired_at"]:
        return None
    last = datetime.fromisoformat(sched["last_fired_at"])
    slot = latest_missed_slot(entry.cron, last, now)
    if slot is None:
        return None
    tiny = timedelta(microseconds=1)
    handles = DBOS.backfill_schedule(entry.mission_id, slot - tiny, slot + tiny)
    return handles[-1].get_workflow_id() if handles else None


def install_schedules(
    paths: list[Path], *, missed: Missed = "skip", concurrency: int = DEFAULT_CONCURRENCY
) -> list[str]:
    """Register the queue and install the schedules of these files; the mission ids."""
    entries = [e for p in paths for e in schedule_entries(p)]
    register_queue(concurrency)
    apply(entries, missed=missed)
    return [e.mission_id for e in entries]


def serve(
    engine: MissionEngine,
    paths: list[Path],
    *,
    missed: Missed = "skip",
    concurrency: int = DEFAULT_CONCURRENCY,
    stop: threading.Event,
    on_ready: Callable[[list[str]], None] | None = None,
) -> list[str]:
    """Run the scheduler until `stop` is set: launch, install schedules, wait, shut down."""
    engine.launch()
    try:
        ids = engine.schedule(paths, missed=missed, concurrency=concurrency)
        if on_ready is not None:
            on_ready(ids)
        stop.wait()
    finally:
        engine.shutdown()
    return ids


def set_paused(db_url: str, mission_id: str, *, paused: bool) -> None:
    """Pause or resume a mission's schedule from any process (no DBOS launch needed)."""
    client = _client(db_url)
    try:
        try:
            found = client.get_schedule(mission_id)
        except DBAPIError:  # no system database yet
            found = None
        if found is None:
            raise UnknownScheduleError(
                f"mission {mission_id!r} has no schedule in {safe_url(db_url)}; "
                "start `mana-planner schedule` with its file first"
            )
        if paused:
            client.pause_schedule(mission_id)
        else:
            client.resume_schedule(mission_id)
    finally:
        client.destroy()


def schedule_status(db_url: str, mission_id: str) -> str | None:
    """ACTIVE, PAUSED, or None when the mission has no schedule."""
    client = _client(db_url)
    try:
        try:
            sched = client.get_schedule(mission_id)
        except DBAPIError:
            return None
        return None if sched is None else str(sched["status"])
    finally:
        client.destroy()


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _client(db_url: str) -> DBOSClient:
    """A client on the system database that raises rather than waits on a lost connection."""
    return DBOSClient(
        system_database_url=db_url, application_name=APP_NAME, retry_connection_errors=False
    )
