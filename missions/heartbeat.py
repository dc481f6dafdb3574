"""Heartbeats in the system database: which workers and runs are alive.

Every launched engine (a `schedule` worker, a `personas schedule` worker, one `run`) keeps a
row in `mana_workers` and one row per run in flight in `mana_run_beats`, refreshed every
`$MANA_HEARTBEAT_S` seconds (default 2) by a background thread. A row whose beat is older than
five intervals belongs to a process that is gone: its unfinished runs show as `orphaned`.

A worker whose beat is older than `recover_after_s` is dead: one survivor of the same DBOS
application claims it with a conditional update (only one UPDATE can move `recovered_by` from
NULL, however many survivors try at once) and recovers its pending workflows through DBOS's
own recovery of another executor's workflows; they go back to the queue, and the queue hands
each to one live worker.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from missions.system_db import sync_engine

HEARTBEAT_ENV = "MANA_HEARTBEAT_S"
HEARTBEAT_S = 2.0
STALE_BEATS = 5
"""A beat older than this many intervals means the process is gone."""
DEFAULT_RECOVER_AFTER_S = 60.0

Role = Literal["worker", "run"]
log = structlog.get_logger("missions.heartbeat")
metadata = sa.MetaData()

workers_table = sa.Table(
    "mana_workers",
    metadata,
    sa.Column("executor_id", sa.String(200), primary_key=True),
    sa.Column("app_name", sa.String(200), nullable=False, index=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("beat_at", sa.Float, nullable=False),
    sa.Column("recovered_by", sa.String(200)),
    sa.Column("recovered_at", sa.Float),
)

run_beats_table = sa.Table(
    "mana_run_beats",
    metadata,
    sa.Column("run_id", sa.String(200), primary_key=True),
    sa.Column("executor_id", sa.String(200), nullable=False, index=True),
    sa.Column("beat_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class WorkerRow:
    """One process's heartbeat row."""

    executor_id: str
    app_name: str
    role: str
    host: str
    pid: int
    started_at: float
    beat_at: float
    recovered_by: str | None
    recovered_at: float | None


@dataclass(frozen=True)
class RunBeat:
    """The latest beat of one run, and the executor running it."""

    run_id: str
    executor_id: str
    beat_at: float


def heartbeat_interval() -> float:
    """Seconds between beats: $MANA_HEARTBEAT_S, else 2."""
    return float(os.environ.get(HEARTBEAT_ENV) or HEARTBEAT_S)


def stale_after() -> float:
    """How old a beat may be while its process still counts as alive."""
    return STALE_BEATS * heartbeat_interval()


def is_fresh(beat_at: float, now: float) -> bool:
    """True when a beat at `beat_at` still means its process is alive at `now`."""
    return now - beat_at <= stale_after()


class BeatStore:
    """The heartbeat tables on the system database (SQLite or PostgreSQL, same code)."""

    def __init__(self, db_url: str) -> None:
        self.engine = sync_engine(db_url)

    def create(self) -> None:
        """Create the tables when missing."""
        metadata.create_all(self.engine)

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def _upsert(self, table: sa.Table, key: str, values: dict[str, Any]) -> None:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(table).values(**values)
        update = {k: v for k, v in values.items() if k != key}
        with self.engine.begin() as conn:
            conn.execute(stmt.on_conflict_do_update(index_elements=[key], set_=update))

    def register(self, executor_id: str, app_name: str, role: Role, now: float) -> None:
        """Insert or renew this process's row (a restarted worker is alive again)."""
        self._upsert(
            workers_table,
            "executor_id",
            {
                "executor_id": executor_id,
                "app_name": app_name,
                "role": role,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "started_at": now,
                "beat_at": now,
                "recovered_by": None,
                "recovered_at": None,
            },
        )

    def beat(self, executor_id: str, run_ids: list[str], gone: list[str], now: float) -> None:
        """Refresh this process's row and its runs' rows; drop the rows of runs that ended."""
        w, r = workers_table, run_beats_table
        with self.engine.begin() as conn:
            conn.execute(w.update().where(w.c.executor_id == executor_id).values(beat_at=now))
            if run_ids:
                conn.execute(
                    r.update()
                    .where(r.c.run_id.in_(run_ids))
                    .values(beat_at=now, executor_id=executor_id)
                )
            if gone:
                conn.execute(
                    r.delete().where(r.c.run_id.in_(gone)).where(r.c.executor_id == executor_id)
                )

    def track(self, run_id: str, executor_id: str, now: float) -> None:
        """A run started or resumed on this executor."""
        self._upsert(
            run_beats_table,
            "run_id",
            {"run_id": run_id, "executor_id": executor_id, "beat_at": now},
        )

    def retire(self, executor_id: str) -> None:
        """Remove a cleanly stopped process's row (nothing of it is left to recover)."""
        with self.engine.begin() as conn:
            conn.execute(workers_table.delete().where(workers_table.c.executor_id == executor_id))

    def dead_workers(self, app_name: str, cutoff: float, me: str) -> list[str]:
        """Workers of this application whose last beat is before `cutoff`, not yet recovered."""
        w = workers_table
        query = (
            sa.select(w.c.executor_id)
            .where(w.c.app_name == app_name)
            .where(w.c.role == "worker")
            .where(w.c.beat_at < cutoff)
            .where(w.c.recovered_by.is_(None))
            .where(w.c.executor_id != me)
        )
        with self.engine.connect() as conn:
            return [str(row[0]) for row in conn.execute(query)]

    def claim(self, dead: str, me: str, cutoff: float, now: float) -> bool:
        """Claim a dead worker's recovery; True for exactly one claimant."""
        w = workers_table
        with self.engine.begin() as conn:
            done = conn.execute(
                w.update()
                .where(w.c.executor_id == dead)
                .where(w.c.recovered_by.is_(None))
                .where(w.c.beat_at < cutoff)
                .values(recovered_by=me, recovered_at=now)
            )
        return done.rowcount == 1

    def workers(self) -> list[WorkerRow]:
        """Every process row, newest beat first; empty when the tables do not exist yet."""
        query = workers_table.select().order_by(workers_table.c.beat_at.desc())
        return [WorkerRow(**row) for row in self._read(query)]

    def run_beats(self, run_ids: list[str] | None = None) -> dict[str, RunBeat]:
        """The latest beat of these runs (all runs when None), by run id."""
        query = run_beats_table.select()
        if run_ids is not None:
            query = query.where(run_beats_table.c.run_id.in_(run_ids))
        return {row["run_id"]: RunBeat(**row) for row in self._read(query)}

    def _read(self, query: sa.Select[Any]) -> list[dict[str, Any]]:
        try:
            with self.engine.connect() as conn:
                return [dict(row) for row in conn.execute(query).mappings()]
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # no tables yet
            return []


@dataclass
class Heartbeat:
    """This process's beat thread; on a worker it also takes over dead workers' runs."""

    store: BeatStore
    executor_id: str
    app_name: str
    role: Role
    interval_s: float = field(default_factory=heartbeat_interval)
    recover_after_s: float | None = None
    recover: Callable[[str], int] | None = None
    """Recovers a dead executor's pending workflows; returns how many."""
    clock: Callable[[], float] = time.time
    _runs: set[str] = field(default_factory=set)
    _gone: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Create the tables, register this process and start beating."""
        self.store.create()
        self.store.register(self.executor_id, self.app_name, self.role, self.clock())
        self._thread = threading.Thread(target=self._loop, name="mana-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating; a process with no run in flight removes its row."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            idle = not self._runs
            gone = sorted(self._gone)
            self._gone.clear()
        try:
            if gone:  # runs that ended since the last beat: no fresh beat may outlive them
                self.store.beat(self.executor_id, [], gone, self.clock())
            if idle:
                self.store.retire(self.executor_id)
        finally:
            self.store.close()

    def track(self, run_id: str) -> None:
        """A run started here: beat for it until `untrack`."""
        with self._lock:
            self._runs.add(run_id)
            self._gone.discard(run_id)
        self.store.track(run_id, self.executor_id, self.clock())

    def untrack(self, run_id: str) -> None:
        """A run ended here (finished or interrupted): stop beating for it."""
        with self._lock:
            self._runs.discard(run_id)
            self._gone.add(run_id)

    def tick(self) -> list[str]:
        """One beat, then (on a worker) a look for dead workers; the executors recovered."""
        with self._lock:
            runs, gone = sorted(self._runs), sorted(self._gone)
            self._gone.clear()
        self.store.beat(self.executor_id, runs, gone, self.clock())
        return self.take_over()

    def take_over(self) -> list[str]:
        """Recover the runs of every dead worker this process wins the claim for."""
        if self.recover_after_s is None or self.recover is None:
            return []
        now = self.clock()
        cutoff = now - self.recover_after_s
        won = []
        for dead in self.store.dead_workers(self.app_name, cutoff, self.executor_id):
            if self.store.claim(dead, self.executor_id, cutoff, now):
                count = self.recover(dead)
                log.warning("worker.recovered", dead=dead, by=self.executor_id, runs=count)
                won.append(dead)
        return won

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception as exc:  # a lost connection: beat again next time
                log.warning("heartbeat.failed", executor=self.executor_id, error=type(exc).__name__)
