"""Durable mission runs on DBOS: steps, replay after a restart, a SIGKILL mid-run."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS
from pydantic import BaseModel

from missions.config import MissionConfig
from missions.durable import DBOSEngine, run_durable
from missions.durable_steps import StepClock, replayed_model_error
from missions.errors import DatabaseUrlError
from missions.system_db import system_database_url
from planner import ModelError, StopReason, ToolContext, ToolRegistry, ToolSpec
from planner.models import ScriptedModel
from planner.transcript import RunFinished, ToolResultEvent, read_transcript

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


class KeyIn(BaseModel):
    key: int


class KeyOut(BaseModel):
    key: int


class TextIn(BaseModel):
    text: str


class Counted(BaseModel):
    n: int


def mission(**overrides: Any) -> MissionConfig:
    data: dict[str, Any] = {
        "id": "durable-test",
        "title": "Durable test",
        "objective": "Read twelve keys, write one note, answer.",
        "model": "scripted:unused.json",
        "tools": ["*"],
        "user_id": "u1",
        "space_id": "s1",
        "parallel_reads": True,
        "limits": {"max_rounds": 6},
    }
    data.update(overrides)
    return MissionConfig.model_validate(data)


class Tools:
    """Counts how often each handler really ran."""

    def __init__(self) -> None:
        self.reads = 0
        self.writes: list[str] = []

    def registry(self) -> ToolRegistry:
        async def read(ctx: ToolContext, inp: KeyIn) -> KeyOut:
            self.reads += 1
            await asyncio.sleep(random.uniform(0.0, 0.03))
            return KeyOut(key=inp.key)

        async def write(ctx: ToolContext, inp: TextIn) -> Counted:
            self.writes.append(inp.text)
            return Counted(n=len(self.writes))

        async def boom(ctx: ToolContext, inp: KeyIn) -> KeyOut:
            raise ValueError(f"no key {inp.key}")

        return ToolRegistry(
            [
                ToolSpec("kv.read", "Read a key.", KeyIn, KeyOut, read),
                ToolSpec("kv.boom", "Fail.", KeyIn, KeyOut, boom),
                ToolSpec("notes.write", "Write.", TextIn, Counted, write, policy_hint="write"),
            ]
        )


def script() -> list[dict[str, Any]]:
    reads = [{"name": "kv.read", "arguments": {"key": i}} for i in range(12)]
    return [
        {"tool_calls": reads},
        {
            "tool_calls": [
                {"name": "notes.write", "arguments": {"text": "hello"}},
                {"name": "kv.boom", "arguments": {"key": 7}},
            ]
        },
        {"text": "done", "usage": {"input_tokens": 5, "output_tokens": 2}},
    ]


@pytest.fixture
def engine_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    DBOS.destroy()  # whatever a failed test left running


def test_database_url_defaults_and_drivers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    assert (
        system_database_url(None, tmp_path / "v") == f"sqlite:///{tmp_path}/v/mana-planner.sqlite"
    )
    assert (tmp_path / "v").is_dir()
    pg = "postgresql+asyncpg://u:p@127.0.0.1:5432/db"
    assert system_database_url(pg) == "postgresql://u:p@127.0.0.1:5432/db"
    monkeypatch.setenv("MANA_DATABASE_URL", "postgres://u@h/db")
    assert system_database_url(None) == "postgresql://u@h/db"
    with pytest.raises(DatabaseUrlError, match="no scheme"):
        system_database_url("just-a-name")


def test_replayed_model_errors_keep_their_type_name() -> None:
    err = replayed_model_error("RateLimitError", "429 slow down")
    assert isinstance(err, ModelError)
    assert f"{type(err).__name__}: {err}" == "RateLimitError: 429 slow down"
    again = replayed_model_error("RateLimitError", "again")
    assert f"{type(again).__name__}: {again}" == "RateLimitError: again"
    assert type(replayed_model_error("ModelError", "x")) is ModelError
    clock = StepClock()
    clock.now = 12.5
    assert clock() == 12.5


async def test_run_records_steps_and_a_finished_run_is_not_run_again(engine_dir: Path) -> None:
    tools = Tools()
    model = ScriptedModel(script())
    engine = DBOSEngine.with_tools(
        tools.registry(),
        db_url=f"sqlite:///{engine_dir / 'sys.sqlite'}",
        runs_dir=engine_dir / "runs",
        model_for=lambda _spec: model,
    )
    engine.launch()
    try:
        run = await engine.run(mission(), run_id="run-a")
        assert run.result.stop_reason is StopReason.ASSISTANT_STOP
        assert run.result.summary == "done"
        assert (tools.reads, tools.writes) == (12, ["hello"])
        boom = run.result.executed_calls[-1].result
        assert not boom.success and boom.message == "ValueError: no key 7"

        steps = await DBOS.list_workflow_steps_async("run-a")
        names = [s["function_name"] for s in sorted(steps, key=lambda s: s["function_id"])]
        assert names[0] == "run.started" and names[-1] == "run.finished"
        assert names[1] == "model#1"
        # parallel reads take step ids in source order, whatever order they finish in
        assert names[2:14] == [f"tool:kv.read:call_{i + 1}" for i in range(12)]
        assert names[14:] == [
            "model#2",
            "tool:notes.write:call_13",
            "tool:kv.boom:call_14",
            "model#3",
            "run.finished",
        ]

        events = list(read_transcript(run.transcript_path))
        assert isinstance(events[-1], RunFinished) and events[-1].stop_reason == "assistant_stop"

        again = await engine.run(mission(), run_id="run-a")
        assert again.result.summary == "done" and again.run_id == "run-a"
        assert len(model.requests) == 3
        assert (tools.reads, tools.writes) == (12, ["hello"])

        # replay every recorded step (fork at the last one): same results, no tool runs again
        handle = await DBOS.fork_workflow_async("run-a", len(names))
        forked = await handle.get_result()
        assert forked.result.summary == "done"
        assert [e.result for e in forked.result.executed_calls] == [
            e.result for e in run.result.executed_calls
        ]
        assert len(model.requests) == 3
        assert (tools.reads, tools.writes) == (12, ["hello"])
        replayed = [e for e in read_transcript(forked.transcript_path)]
        results = [e for e in replayed if isinstance(e, ToolResultEvent)]
        assert [r.call_id for r in results] == [f"call_{i}" for i in range(1, 15)]
    finally:
        engine.shutdown()


async def test_model_error_is_recorded_and_ends_the_run(engine_dir: Path) -> None:
    model = ScriptedModel([])  # exhausted at once: ScriptExhaustedError
    engine = DBOSEngine.with_tools(
        Tools().registry(),
        db_url=f"sqlite:///{engine_dir / 'sys.sqlite'}",
        runs_dir=engine_dir / "runs",
        model_for=lambda _spec: model,
    )
    engine.launch()
    try:
        run = await engine.run(mission(), run_id="run-err")
        assert run.result.stop_reason is StopReason.MODEL_ERROR
        assert run.result.error is not None
        assert run.result.error.startswith("ScriptExhaustedError: ")
    finally:
        engine.shutdown()


# --- SIGKILL mid-run ----------------------------------------------------------------------

KILL_REPLIES = [
    {"tool_calls": [{"name": "notes__write", "arguments": {"text": "first"}}]},
    {"tool_calls": [{"name": "notes__read", "arguments": {"key": k}} for k in (1, 2, 3)]},
    {
        "tool_calls": [
            {"name": "notes__write", "arguments": {"text": "second"}},
            {"name": "probe__wait", "arguments": {}},
        ]
    },
    {"text": "all done"},
]


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MANA_DATABASE_URL", None)
    env["PYTHONPATH"] = str(ROOT)
    env["POLICY_MODE"] = "log-only"
    env["DURABLE_CHILD_DUMP_S"] = "60"  # a hung child prints its stacks and exits
    return env


def test_sigkilled_run_resumes_without_repeating_model_calls_or_writes(tmp_path: Path) -> None:
    script_file = tmp_path / "replies.json"
    script_file.write_text(json.dumps(KILL_REPLIES))
    port_file, count_file = tmp_path / "port", tmp_path / "count"
    server = subprocess.Popen(
        [
            *(PYTHON, "-m", "planner.testing.fake_llm", "--port", "0"),
            *("--port-file", str(port_file), "--script", str(script_file)),
            *("--count-file", str(count_file)),
        ],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: port_file.exists() and port_file.read_text(), 15, "the fake server")
        rows, marker = tmp_path / "rows.sqlite", tmp_path / "marker"
        args = [PYTHON, "-m", "tests.missions.durable_child", "run"]
        args += ["--db", f"sqlite:///{tmp_path / 'sys.sqlite'}", "--runs-dir", str(tmp_path)]
        args += ["--rows", str(rows), "--run-id", "kill-1"]
        args += ["--base-url", f"http://127.0.0.1:{port_file.read_text()}"]

        first = subprocess.Popen(
            [*args, "--hang", str(marker)],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            # probe.wait touches the marker after round 3's write was recorded, then hangs
            wait_for(lambda: marker.exists() or first.poll() is not None, 60, "the probe")
            assert first.poll() is None, first.communicate()[1].decode()[-3000:]
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate()
        assert count_file.read_text() == "3"
        assert note_rows(rows) == ["first", "second"]

        second = subprocess.run(
            args, cwd=ROOT, env=child_env(), capture_output=True, timeout=90, check=False
        )
        assert second.returncode == 0, second.stderr.decode()[-3000:]
        out = json.loads(second.stdout.decode().strip().splitlines()[-1])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)

    assert out["stop_reason"] == "assistant_stop" and out["summary"] == "all done"
    assert out["rounds"] == 4 and out["tool_calls"] == 6
    # four model steps, each sent once: the restart sent only the fourth
    assert count_file.read_text() == "4"
    # two write calls, two rows: neither write ran again
    assert note_rows(rows) == ["first", "second"]
    events = list(read_transcript(out["transcript"]))
    assert isinstance(events[-1], RunFinished) and events[-1].stop_reason == "assistant_stop"
    results = [e for e in events if isinstance(e, ToolResultEvent)]
    assert [r.name for r in results] == ["notes.write"] + ["notes.read"] * 3 + [
        "notes.write",
        "probe.wait",
    ]
    assert all(r.success for r in results)


def note_rows(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT value FROM notes ORDER BY rowid")]


async def test_run_durable_runs_and_resumes_by_run_id(engine_dir: Path) -> None:
    steps = engine_dir / "steps.json"
    steps.write_text(json.dumps(script()))
    tools = Tools()
    kwargs: dict[str, Any] = {
        "run_id": "one-off",
        "runs_dir": engine_dir / "runs",
        "db_url": f"sqlite:///{engine_dir / 'sys.sqlite'}",
    }
    cfg = mission(model=f"scripted:{steps}")
    run = await run_durable(cfg, tools.registry(), **kwargs)
    assert run.result.summary == "done" and run.run_id == "one-off"
    again = await run_durable(cfg, tools.registry(), **kwargs)  # finished: recorded result
    assert again.result.summary == "done"
    assert (tools.reads, tools.writes) == (12, ["hello"])
