"""Helper processes for the durable tests: `python -m tests.missions.durable_child run|worker`.

`run`: one mission against the fake model server, as the DBOS workflow `--run-id`. Its tools:
`notes.write` inserts a row into a SQLite file (a write the test counts), `notes.read` is a
parallel-safe read with a random latency, and `probe.wait` is a read that, given `--hang`,
touches a marker file and sleeps forever so the test can SIGKILL the process at a known step.

`worker`: the scheduler over a folder of mission files (`serve`), whose `slot.record` tool
inserts the run id (one per slot) and this worker's pid into a SQLite file. With `--hold FILE`
it also offers the take-over test's tools: `notes.write` and `done.record` insert the run id
into `notes` and `finished`, and `probe.hold` inserts it into `holds` and then waits while
FILE exists.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import os
import random
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import anyio
from pydantic import BaseModel

from missions.config import MissionConfig
from missions.durable import DBOSEngine
from missions.schedule_dbos import serve
from planner import ModelRequest, ToolContext, ToolRegistry, ToolSpec
from planner.models import Model, ScriptedModel
from planner.models.spec import from_spec

RUN_MISSION = {
    "id": "durable-kill",
    "title": "Durable kill test",
    "objective": "Write two notes, read three, probe, and finish.",
    "model": "anthropic:fake-model",
    "tools": ["*"],
    "user_id": "u1",
    "space_id": "s1",
    "parallel_reads": True,
    "limits": {"max_rounds": 8},
}


class WriteIn(BaseModel):
    text: str


class WriteOut(BaseModel):
    row_id: int


class ReadIn(BaseModel):
    key: int


class ReadOut(BaseModel):
    key: int
    value: str


class Empty(BaseModel):
    pass


class Done(BaseModel):
    ok: bool = True


def insert_row(db: Path, table: str, value: str) -> int:
    """Insert one row (value, this pid, the time) and commit; the row id."""
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (value TEXT, pid INTEGER, at REAL)")
        row = (value, os.getpid(), time.time())
        cur = conn.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", row)
        return int(cur.lastrowid or 0)


def kill_registry(rows: Path, marker: Path | None) -> ToolRegistry:
    """The kill test's tools."""

    async def write(ctx: ToolContext, inp: WriteIn) -> WriteOut:
        return WriteOut(row_id=insert_row(rows, "notes", inp.text))

    async def read(ctx: ToolContext, inp: ReadIn) -> ReadOut:
        await asyncio.sleep(random.uniform(0.0, 0.05))
        return ReadOut(key=inp.key, value=f"value-{inp.key}")

    async def probe(ctx: ToolContext, inp: Empty) -> Done:
        if marker is not None:
            marker.write_text(ctx.call_id)
            await asyncio.sleep(3600)
        return Done()

    return ToolRegistry(
        [
            ToolSpec("notes.write", "Save a note.", WriteIn, WriteOut, write, policy_hint="write"),
            ToolSpec("notes.read", "Read a note.", ReadIn, ReadOut, read),
            ToolSpec("probe.wait", "Wait for the probe.", Empty, Done, probe, timeout_s=7200),
        ]
    )


def slot_registry(rows: Path) -> ToolRegistry:
    """The scale-out test's tool: record this run (one per slot)."""

    async def record(ctx: ToolContext, inp: Empty) -> Done:
        await anyio.to_thread.run_sync(insert_row, rows, "slots", ctx.run_id)
        return Done()

    return ToolRegistry(
        [ToolSpec("slot.record", "Record the slot.", Empty, Done, record, policy_hint="write")]
    )


def takeover_registry(rows: Path, hold: Path) -> ToolRegistry:
    """The take-over test's tools: a write, a read held while `hold` exists, a last write."""

    async def write(ctx: ToolContext, inp: WriteIn) -> WriteOut:
        return WriteOut(
            row_id=await anyio.to_thread.run_sync(insert_row, rows, "notes", ctx.run_id)
        )

    async def held(ctx: ToolContext, inp: Empty) -> Done:
        await anyio.to_thread.run_sync(insert_row, rows, "holds", ctx.run_id)
        while hold.exists():
            await asyncio.sleep(0.1)
        return Done()

    async def done(ctx: ToolContext, inp: Empty) -> Done:
        await anyio.to_thread.run_sync(insert_row, rows, "finished", ctx.run_id)
        return Done()

    return ToolRegistry(
        [
            ToolSpec("notes.write", "Save a note.", WriteIn, WriteOut, write, policy_hint="write"),
            ToolSpec("probe.hold", "Wait.", Empty, Done, held, policy_hint="read", timeout_s=600),
            ToolSpec("done.record", "Finish.", Empty, Done, done, policy_hint="write"),
        ]
    )


def worker_model(spec: str) -> Model:
    """`scripted:FILE` answering round n with step n of FILE, whatever this process answered
    before: a run recovered on another worker gets the answers its rounds would have had."""
    prefix, _, path = spec.partition(":")
    if prefix != "scripted":
        return from_spec(spec)
    steps: list[dict[str, Any]] = json.loads(Path(path).read_text())

    def by_round(request: ModelRequest) -> dict[str, Any]:
        return steps[request.round - 1]

    return ScriptedModel([by_round] * len(steps), model_id="by-round")


def run_main(args: argparse.Namespace) -> None:
    """Run (or resume) the kill-test mission and print its outcome as JSON."""
    base_url = args.base_url

    def model_for(spec: str) -> Model:
        return from_spec(spec, base_url=base_url, api_key="test-key")

    engine = DBOSEngine.with_tools(
        kill_registry(args.rows, args.hang),
        db_url=args.db,
        runs_dir=args.runs_dir,
        model_for=model_for,
        executor="kill-test",
    )
    engine.launch()
    try:
        cfg = MissionConfig.model_validate(RUN_MISSION)
        run = anyio.run(lambda: engine.run(cfg, run_id=args.run_id))
    finally:
        engine.shutdown()
    out = {
        "run_id": run.run_id,
        "stop_reason": run.result.stop_reason.value,
        "rounds": run.result.rounds,
        "tool_calls": len(run.result.executed_calls),
        "summary": run.result.summary,
        "transcript": str(run.transcript_path),
    }
    print(json.dumps(out), flush=True)


def worker_main(args: argparse.Namespace) -> None:
    """Run the scheduler until SIGTERM."""
    stop = threading.Event()

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tools = slot_registry(args.rows)
    if args.hold is not None:
        tools = tools.merged(takeover_registry(args.rows, args.hold))
    engine = DBOSEngine.with_tools(
        tools,
        db_url=args.db,
        runs_dir=args.runs_dir,
        scheduler_poll_s=1.0,
        recover_after_s=args.recover_after,
        model_for=worker_model,
    )

    def ready(ids: list[str]) -> None:
        print(json.dumps({"ready": ids}), flush=True)

    serve(engine, [args.missions], concurrency=args.concurrency, stop=stop, on_ready=ready)


def main(argv: list[str] | None = None) -> None:
    if os.environ.get("DURABLE_CHILD_DUMP_S"):
        faulthandler.dump_traceback_later(float(os.environ["DURABLE_CHILD_DUMP_S"]), exit=True)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--db", required=True)
    run.add_argument("--runs-dir", type=Path, required=True)
    run.add_argument("--rows", type=Path, required=True)
    run.add_argument("--base-url", required=True)
    run.add_argument("--run-id", required=True)
    run.add_argument("--hang", type=Path, help="touch this file in probe.wait, then hang")
    worker = sub.add_parser("worker")
    worker.add_argument("--db", required=True)
    worker.add_argument("--runs-dir", type=Path, required=True)
    worker.add_argument("--rows", type=Path, required=True)
    worker.add_argument("--missions", type=Path, required=True)
    worker.add_argument("--concurrency", type=int, default=4)
    worker.add_argument("--recover-after", type=float, default=60.0)
    worker.add_argument("--hold", type=Path, help="offer the take-over tools, held by this file")
    args = parser.parse_args(argv)
    if args.command == "run":
        run_main(args)
    else:
        worker_main(args)


if __name__ == "__main__":
    main(sys.argv[1:])
