"""Issue 17 item 6: a queue of short runs on PostgreSQL drained by 1, 2 and 4 workers.

`python -m bench.queue_drain [--runs 400] [--workers 1,2,4]` enqueues the runs with
`missions.schedule_dbos.enqueue_run`, then starts that many worker processes (the engine of
`mana-planner schedule`, over a folder without schedules) and waits until every run succeeded.
Each run is one model step and one write step (`drain.record`, which inserts the run id into a
SQLite file), so "each run exactly once" is a count of rows. Every worker is up before the runs
are enqueued; throughput is runs per second between the first dequeue and the last completion
as DBOS recorded them. Needs PostgreSQL
(MANA_DATABASE_URL or MANA_TEST_PG_URL); writes bench/results/queue_drain.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel

from planner import ToolContext, ToolRegistry, ToolSpec

RESULTS = Path(__file__).parent / "results" / "queue_drain.json"
ROOT = Path(__file__).resolve().parents[1]


class Empty(BaseModel):
    """No arguments, no result."""


def record_row(db: Path, run_id: str) -> None:
    """One row per execution of a run's write step."""
    with sqlite3.connect(db, timeout=60) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS runs (run_id TEXT, pid INTEGER)")
        conn.execute("INSERT INTO runs VALUES (?, ?)", (run_id, os.getpid()))


def worker(db_url: str, rows: Path, runs_dir: Path, concurrency: int) -> None:
    """A worker process: the mission engine draining the queue until SIGTERM."""
    from missions.durable import DBOSEngine
    from missions.schedule_dbos import serve

    async def record(ctx: ToolContext, inp: Empty) -> Empty:
        await anyio.to_thread.run_sync(record_row, rows, ctx.run_id)
        return Empty()

    tools = ToolRegistry([ToolSpec("drain.record", "Record.", Empty, Empty, record)])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    engine = DBOSEngine.with_tools(tools, db_url=db_url, runs_dir=runs_dir)
    empty = runs_dir / "no-schedules"
    empty.mkdir(parents=True, exist_ok=True)

    def ready(_ids: list[str]) -> None:
        print("ready", flush=True)

    serve(engine, [empty], concurrency=concurrency, stop=stop, on_ready=ready)


def drain(db_url: str, runs: int, workers: int, tmp: Path) -> dict[str, Any]:
    """Enqueue `runs` runs, drain them with `workers` processes; the figures."""
    from missions.config import MissionConfig
    from missions.schedule_dbos import enqueue_runs
    from missions.system_db import client

    tag = f"drain-{workers}w-{secrets.token_hex(3)}"
    steps = tmp / f"{tag}.json"
    call = {"name": "drain.record", "arguments": {}}
    steps.write_text(json.dumps([{"tool_calls": [call]}, {"text": "done"}]))
    cfg = MissionConfig.model_validate(
        {
            "id": tag,
            "title": "Queue drain",
            "objective": "Record and finish.",
            "model": f"scripted:{steps}",
            "tools": ["drain.*"],
            "user_id": "bench",
            "space_id": "bench",
        }
    )
    ids = [f"{tag}-{n:04d}" for n in range(runs)]
    rows = tmp / f"{tag}.sqlite"
    procs = [_start_worker(db_url, rows, tmp, n, tag) for n in range(workers)]
    c = client(db_url)
    try:
        for n in range(workers):  # every worker up before the first run is enqueued
            _wait_ready(tmp / f"{tag}-worker-{n}.out", procs[n])
        enqueue_runs(db_url, cfg, ids, runs_dir=tmp / "runs")
        statuses = _wait_all(c, tag, runs)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        c.destroy()
    started = min(s.dequeued_at or s.created_at or 0 for s in statuses)
    ended = max(s.completed_at or s.updated_at or 0 for s in statuses)
    with sqlite3.connect(rows) as conn:
        executed = Counter(r[0] for r in conn.execute("SELECT run_id FROM runs"))
    wall_s = (ended - started) / 1000
    return {
        "workers": workers,
        "runs": runs,
        "succeeded": sum(s.status == "SUCCESS" for s in statuses),
        "executed_once": sum(1 for i in ids if executed[i] == 1),
        "wall_s": wall_s,
        "runs_per_s": runs / wall_s if wall_s else 0.0,
    }


def _wait_ready(out: Path, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not (out.exists() and "ready" in out.read_text(errors="replace")):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start: {out.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)


def _start_worker(db_url: str, rows: Path, tmp: Path, n: int, tag: str) -> subprocess.Popen[bytes]:
    """A worker process; its output (logs included) goes to a file, never a full pipe."""
    name = f"{tag}-worker-{n}"
    env = {**os.environ, "MANA_EXECUTOR_ID": name, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "bench.queue_drain", "worker", "--db", db_url]
    args += ["--rows", str(rows), "--runs-dir", str(tmp / "runs")]
    out = (tmp / f"{name}.out").open("wb")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_all(c: Any, tag: str, runs: int, timeout_s: float = 900) -> list[Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        found = c.list_workflows(workflow_id_prefix=tag, load_input=False, load_output=False)
        if sum(s.status == "SUCCESS" for s in found) >= runs or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> None:
    """Run the drain for each worker count and print (and store) the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.queue_drain")
    sub = parser.add_subparsers(dest="command")
    w = sub.add_parser("worker")
    w.add_argument("--db", required=True)
    w.add_argument("--rows", type=Path, required=True)
    w.add_argument("--runs-dir", type=Path, required=True)
    w.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args(argv)
    if args.command == "worker":
        worker(args.db, args.rows, args.runs_dir, args.concurrency)
        return
    from missions.system_db import system_database_url

    pg = os.environ.get("MANA_DATABASE_URL") or os.environ.get("MANA_TEST_PG_URL")
    if not pg:
        print(json.dumps({"queue_drain": "skipped: no PostgreSQL URL"}))
        return
    db_url = system_database_url(pg)
    figures = []
    with tempfile.TemporaryDirectory(prefix="mana-drain-") as d:
        for n in (int(x) for x in args.workers.split(",")):
            figures.append(drain(db_url, args.runs, n, Path(d)))
            print(json.dumps(figures[-1]), flush=True)
    by = {f["workers"]: f["runs_per_s"] for f in figures}
    out: dict[str, Any] = {"drains": figures}
    if 1 in by and 2 in by and by[1]:
        out["ratio_2_over_1"] = by[2] / by[1]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "drains"}))


if __name__ == "__main__":
    main(sys.argv[1:])
