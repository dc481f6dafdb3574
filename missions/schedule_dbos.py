"""Mission schedules on DBOS: one firing per slot across every worker.

DBOS fires the workflow `mana.scheduled_run` with the id `sched-<mission>-<slot time>`, so
however many workers fire a slot, the slot runs once: that id is the run id. Firings go through
the queue `mana-missions`, whose per-worker concurrency bounds how many runs a worker has in
flight. Only workers fire them: a worker is the DBOS application `mana-planner`, and no other
command launches DBOS as that application.

Missed slots (the scheduler was down): `skip` runs none of them; `once` runs the latest one
when the scheduler starts (its id is that slot's, so several workers starting still run it once).
Pause and resume set the schedule's status in the system database; every worker stops or
restarts firing it within its polling interval, and the status survives restarts.

`enqueue_run` puts a single run on the same queue, for whichever worker takes it first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dbos import DBOS, EnqueueOptions
from sqlalchemy.exc import DBAPIError

from missions.config import MissionConfig
from missions.engine_types import Missed, MissionEngine, RunRequest
from missions.errors import ScheduleIntervalError, UnknownScheduleError
from missions.schedule import ScheduleEntry, latest_missed_slot, schedule_entries
from missions.system_db import APP_NAME, MISSION_QUEUE, client, safe_url
from missions.workflows import RUN_WORKFLOW, SCHEDULED_WORKFLOW, scheduled_workflow

DEFAULT_CONCURRENCY = 4
QUEUE_POLL_S = 0.5


def register_queue(concurrency: int = DEFAULT_CONCURRENCY) -> None:
    """The mission queue: at most `concurrency` scheduled runs in flight per worker."""
    if concurrency < 1:
        raise ScheduleIntervalError(f"--concurrency must be at least 1, not {concurrency}")
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


def preregister_queue(db_url: str, concurrency: int) -> None:
    """Set the queue's per-worker concurrency before this worker launches, so its queue thread
    never starts with another worker's setting (a fresh database has no queue yet: skipped)."""
    c = client(db_url)
    try:
        c.register_queue(
            MISSION_QUEUE,
            worker_concurrency=concurrency,
            polling_interval_sec=QUEUE_POLL_S,
            application_name=APP_NAME,
        )
    except DBAPIError:
        pass
    finally:
        c.destroy()


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
    preregister_queue(engine.url, concurrency)
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
    c = client(db_url)
    try:
        try:
            found = c.get_schedule(mission_id)
        except DBAPIError:  # no system database yet
            found = None
        if found is None:
            raise UnknownScheduleError(
                f"mission {mission_id!r} has no schedule in {safe_url(db_url)}; "
                "start `mana-planner schedule` with its file first"
            )
        if paused:
            c.pause_schedule(mission_id)
        else:
            c.resume_schedule(mission_id)
    finally:
        c.destroy()


def schedule_status(db_url: str, mission_id: str) -> str | None:
    """ACTIVE, PAUSED, or None when the mission has no schedule."""
    c = client(db_url)
    try:
        try:
            sched = c.get_schedule(mission_id)
        except DBAPIError:
            return None
        return None if sched is None else str(sched["status"])
    finally:
        c.destroy()


def enqueue_runs(
    db_url: str,
    cfg: MissionConfig,
    run_ids: list[str],
    *,
    mission_path: Path | None = None,
    runs_dir: Path = Path("runs"),
) -> list[str]:
    """Put runs of `cfg` on the mission queue, for whichever worker takes each first.

    A run id is its workflow id: enqueueing an id twice attaches to the first.
    """
    request = RunRequest(
        mission=cfg.model_dump(mode="json"),
        mission_path=str(mission_path) if mission_path else None,
        runs_dir=str(runs_dir),
    ).model_dump(mode="json")
    c = client(db_url)
    try:
        out = []
        for run_id in run_ids:
            options: EnqueueOptions = {
                "queue_name": MISSION_QUEUE,
                "workflow_name": RUN_WORKFLOW,
                "workflow_id": run_id,
            }
            out.append(c.enqueue(options, request).get_workflow_id())
        return out
    finally:
        c.destroy()


def enqueue_run(
    db_url: str,
    cfg: MissionConfig,
    *,
    run_id: str,
    mission_path: Path | None = None,
    runs_dir: Path = Path("runs"),
) -> str:
    """Put one run of `cfg` on the mission queue; its run id."""
    return enqueue_runs(db_url, cfg, [run_id], mission_path=mission_path, runs_dir=runs_dir)[0]
