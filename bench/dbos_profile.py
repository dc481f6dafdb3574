"""Where a durable step's time goes: DBOS's per-step pieces timed inside one bench run.

`python -m bench.dbos_profile` runs the `dbos_step_cost` workload (20 rounds of one zero-delay
read + the answer) durably on SQLite (and PostgreSQL when MANA_TEST_PG_URL is set) with timers
around what DBOS does per step: the checkpoint read (`check_operation_execution`), the output
write (`record_operation_result`), serialisation, every statement and commit on the system
database, every hop to a worker thread, and the workflow's own start/end writes. It prints
each piece per step (µs) and its count per step. Never part of `make bench`: timers add cost.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio

from bench.workloads import _durable_runs, quiet_logging, steps_for


class Timers:
    """Accumulated seconds and counts per named piece."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds
        self.counts[name] += 1

    def wrap(self, owner: Any, attr: str, name: str) -> Callable[[], None]:
        """Time every call of `owner.attr` (sync or async) as `name`; returns the undo."""
        original = getattr(owner, attr)
        if asyncio.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.add(name, time.perf_counter() - start)

            setattr(owner, attr, timed_async)
        else:

            @functools.wraps(original)
            def timed(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self.add(name, time.perf_counter() - start)

            setattr(owner, attr, timed)
        return lambda: setattr(owner, attr, original)


def _hop_timer(timers: Timers) -> Callable[[], None]:
    """Count `asyncio.to_thread` hops and time each hop's queueing (submit -> start in thread)."""
    original = asyncio.to_thread

    async def to_thread(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        submitted = time.perf_counter()

        def run() -> Any:
            started = time.perf_counter()
            timers.add("thread hop: wait to start", started - submitted)
            return func(*args, **kwargs)

        start = time.perf_counter()
        try:
            return await original(run)
        finally:
            timers.add("thread hop: total (incl. body)", time.perf_counter() - start)

    asyncio.to_thread = to_thread
    return lambda: setattr(asyncio, "to_thread", original)


def _sql_timer(timers: Timers) -> Callable[[], None]:
    """Time every statement and every commit on any SQLAlchemy engine (DBOS's included)."""
    import sqlalchemy as sa
    from sqlalchemy import event

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info["_t0"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        table = ""
        for word in ("operation_outputs", "workflow_status", "notifications"):
            if word in statement:
                table = f" {word}"
                break
        timers.add(f"sql {verb}{table}", time.perf_counter() - conn.info.pop("_t0"))

    event.listen(sa.engine.Engine, "before_cursor_execute", before)
    event.listen(sa.engine.Engine, "after_cursor_execute", after)
    pool_undo = _wrap_pool(timers)

    def undo() -> None:
        event.remove(sa.engine.Engine, "before_cursor_execute", before)
        event.remove(sa.engine.Engine, "after_cursor_execute", after)
        pool_undo()

    return undo


def _wrap_pool(timers: Timers) -> Callable[[], None]:
    """Time pool checkouts (pre-ping included) and DBAPI commits."""
    from sqlalchemy.engine import base
    from sqlalchemy.pool import Pool

    undo_connect = timers.wrap(Pool, "connect", "pool checkout (incl. pre-ping)")
    undo_commit = timers.wrap(base.Connection, "_commit_impl", "commit")
    undo_begin = timers.wrap(base.Connection, "_begin_impl", "begin")

    def undo() -> None:
        undo_connect()
        undo_commit()
        undo_begin()

    return undo


@contextmanager
def instrumented(timers: Timers) -> Iterator[None]:
    """DBOS's per-step pieces timed for the duration of the block."""
    sys_db: Any = importlib.import_module("dbos._sys_db")
    core: Any = importlib.import_module("dbos._core")
    cls = sys_db.SystemDatabase
    undos = [
        timers.wrap(cls, "check_operation_execution", "step: check recorded output (txn)"),
        timers.wrap(cls, "record_operation_result", "step: record output (txn)"),
        timers.wrap(core, "serialize_value", "step: serialize output"),
        timers.wrap(core, "run_step_async", "step: whole (run_step_async)"),
        _hop_timer(timers),
        _sql_timer(timers),
    ]
    for attr in ("init_workflow", "update_workflow_outcome", "record_workflow_output"):
        if hasattr(cls, attr):
            undos.append(timers.wrap(cls, attr, f"workflow: {attr}"))
    try:
        yield
    finally:
        for undo in reversed(undos):
            undo()


def profile(url: str, rounds: int = 20, runs: int = 5) -> dict[str, tuple[float, float]]:
    """(µs per step, calls per step) of each timed piece over `runs` durable runs on `url`."""
    steps = steps_for(rounds, 1)
    n_steps = (rounds * 2 + 1) * (runs + 1)
    timers = Timers()
    with tempfile.TemporaryDirectory(prefix="mana-dbos-profile-") as d, instrumented(timers):
        tmp = Path(d)
        target = url.replace("{tmp}", str(tmp))
        start = time.perf_counter()
        anyio.run(_durable_runs, target, steps, runs, tmp)
        timers.add("(wall of all runs, launch excluded)", time.perf_counter() - start)
    return {
        name: (timers.seconds[name] / n_steps * 1e6, timers.counts[name] / n_steps)
        for name in sorted(timers.seconds)
    }


def main() -> None:
    """Print the per-step split for SQLite and, when set, PostgreSQL (argv[1]: rounds)."""
    quiet_logging()
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    targets = {"sqlite": "sqlite:///{tmp}/dbos.sqlite"}
    pg = os.environ.get("MANA_DATABASE_URL") or os.environ.get("MANA_TEST_PG_URL")
    if pg:
        targets["postgres"] = pg
    for name, url in targets.items():
        print(f"== {name}: per step ({rounds * 2 + 1} steps a run, warm-up run included)")
        for piece, (us, count) in profile(url, rounds).items():
            print(f"  {piece:45s} {us:9.1f} µs  {count:6.2f} /step")


if __name__ == "__main__":
    main()
