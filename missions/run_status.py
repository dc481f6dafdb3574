"""A run's status as an operator sees it: its record in the run store, and its heartbeat.

- finished: the record's stop reason (`assistant_stop`, `max_rounds`, ...);
- `running`: unfinished, and its process beat recently (`missions.heartbeat.is_fresh`);
- `interrupted`: unfinished, stopped by SIGINT or SIGTERM (running its id resumes it);
- `orphaned`: unfinished, and no live process beats for it (it was SIGKILLed, or its worker
  died and no survivor has taken it over yet).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from missions.app import AppSettings
from missions.heartbeat import BeatStore, RunBeat, is_fresh
from missions.store import INTERRUPTED, RunRecord
from missions.system_db import system_database_url


@dataclass(frozen=True)
class RunView(RunRecord):
    """A run's record with the status an operator sees."""

    status: str = ""


RUNNING = "running"
ORPHANED = "orphaned"


def run_status(record: RunRecord, beat: RunBeat | None, now: float) -> str:
    """The status of one run, from its record and its latest heartbeat."""
    if record.finished_at is not None:
        return record.stop_reason or "finished"
    if beat is not None and is_fresh(beat.beat_at, now):
        return RUNNING
    if record.stop_reason == INTERRUPTED:
        return INTERRUPTED
    return ORPHANED


def run_statuses(records: Sequence[RunRecord], db_url: str) -> dict[str, str]:
    """The status of each record by run id, reading heartbeats from the system database."""
    unfinished = [r.id for r in records if r.finished_at is None]
    beats: dict[str, RunBeat] = {}
    if unfinished:
        store = BeatStore(db_url)
        try:
            beats = store.run_beats(unfinished)
        finally:
            store.close()
    now = time.time()
    return {r.id: run_status(r, beats.get(r.id), now) for r in records}


def with_status(settings: AppSettings, records: Sequence[RunRecord]) -> list[RunView]:
    """`runs list` / `runs show`: the records with their status (a stop reason, `running`,
    `interrupted` or `orphaned`), read from the run store and the heartbeats."""
    url = system_database_url(settings.database_url, settings.var_dir)
    found = run_statuses(records, url)
    return [RunView(**r.__dict__, status=found[r.id]) for r in records]
