"""Transcripts: typed events, flushed as they happen, readable after a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import structlog

from planner import PolicyGate, PolicyMode, run_planner_loop
from planner.errors import TranscriptError
from planner.transcript import (
    FileTranscript,
    Header,
    PolicyEvent,
    RequestEvent,
    ResponseEvent,
    RunFinished,
    RunStarted,
    ToolCallEvent,
    ToolResultEvent,
    read_transcript,
)
from tests.engine.helpers import call, echo_tool, make_input


async def test_file_transcript_holds_every_event_in_order(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    steps = [{"tool_calls": [call("demo.echo", "c1", text="hi")]}, {"text": "done"}]
    with FileTranscript(path) as transcript:
        inp, _ = make_input(
            steps, [echo_tool()], transcript=transcript, policy=PolicyGate(mode=PolicyMode.ENFORCE)
        )
        await run_planner_loop(inp)
    events = list(read_transcript(path))
    kinds = [type(e) for e in events]
    assert kinds == [
        Header,
        RunStarted,
        RequestEvent,
        ResponseEvent,
        ToolCallEvent,
        PolicyEvent,
        ToolResultEvent,
        RequestEvent,
        ResponseEvent,
        RunFinished,
    ]
    started = events[1]
    assert isinstance(started, RunStarted)
    assert started.tools[0].name == "demo.echo"
    assert started.loop["policy_mode"] == "enforce"
    result = events[6]
    assert isinstance(result, ToolResultEvent) and result.data == {"echoed": "hi"}
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.tool_calls == 1


def test_reader_names_file_line_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = Header().model_dump_json()
    path.write_text(good + "\n" + '{"type": "request", "round": "x", "messages_added": []}\n')
    with pytest.raises(TranscriptError, match=r"bad.jsonl:2: request.round: .*integer"):
        list(read_transcript(path))
    path.write_text(good + "\n{not json\n")
    with pytest.raises(TranscriptError, match=r"bad.jsonl:2: not valid JSON"):
        list(read_transcript(path))
    path.write_text('{"type": "nope"}\n')
    with pytest.raises(TranscriptError, match=r"bad.jsonl:1:"):
        list(read_transcript(path))


def test_policy_decisions_are_structlog_events() -> None:
    from planner import ToolContext
    from tests.engine.helpers import plain_tool

    with structlog.testing.capture_logs() as logs:
        PolicyGate(mode=PolicyMode.ENFORCE).evaluate(
            plain_tool("todo.delete", "destructive"), ToolContext("u1", "s1"), {}
        )
    event = next(e for e in logs if e["event"] == "policy.decision")
    assert event["decision"] == "deny"
    assert event["reason"] == "destructive-not-allowed"
    assert event["tool"] == "todo.delete" and event["user"] == "u1" and event["mode"] == "enforce"


KILLED_RUN = """
import anyio, sys
from planner import run_planner_loop
from planner.transcript import FileTranscript
from tests.engine.helpers import Probe, call, make_input, sleep_tool

async def main():
    steps = [{"tool_calls": [call("demo.sleep", ms=5, label=str(i))]} for i in range(3)]
    steps.append({"tool_calls": [call("demo.sleep", ms=60000, label="hang")]})
    transcript = FileTranscript(sys.argv[1])
    inp, _ = make_input(steps, [sleep_tool(Probe(), timeout_s=120)], transcript=transcript)
    await run_planner_loop(inp)

anyio.run(main)
"""


def test_sigkill_mid_run_leaves_a_valid_transcript(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(path)], cwd=root, env={**os.environ}
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if path.exists() and '"label":"hang"' in path.read_text():
                break
            time.sleep(0.02)
        else:
            pytest.fail("the child never reached the hanging call")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    events = list(read_transcript(path))
    assert isinstance(events[-1], ToolCallEvent)
    assert events[-1].arguments["label"] == "hang"
    assert sum(isinstance(e, ToolResultEvent) for e in events) == 3
    assert all(json.loads(line) for line in path.read_text().splitlines())
