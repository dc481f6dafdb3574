"""Held transcript lines: written together, and on disk before anything could be lost."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from planner import PolicyGate, PolicyMode, ToolContext, ToolSpec, run_planner_loop
from planner.dispatch import RoundDispatch, dispatch_call
from planner.messages import ModelRequest, ToolCall
from planner.tools import ToolRegistry, read_tools_are_parallel_safe
from planner.transcript import AnyEvent, FileTranscript, read_transcript
from tests.engine.helpers import SleepIn, SleepOut, call, echo_tool, make_input

VOLATILE = {"ts", "latency_ms", "duration_ms"}


def lines(path: Path) -> list[dict[str, Any]]:
    """The file's complete lines as JSON objects."""
    text = path.read_bytes().decode()
    return [json.loads(line) for line in text.split("\n")[:-1]]


def stable(path: Path) -> list[dict[str, Any]]:
    """The file's events without the fields that differ from run to run."""
    return [{k: v for k, v in e.items() if k not in VOLATILE} for e in lines(path)]


def gate() -> PolicyGate:
    return PolicyGate(mode=PolicyMode.LOG_ONLY)


def test_a_calls_lines_are_on_disk_before_its_handler_runs(tmp_path: Path) -> None:
    """Each handler, sequential or in a parallel round, finds its tool_call and policy lines;
    a call that ended while another still waits has its result line on disk."""
    path = tmp_path / "t.jsonl"
    seen: dict[str, list[str]] = {}

    async def handler(ctx: ToolContext, inp: SleepIn) -> SleepOut:
        mine = [e["type"] for e in lines(path) if e.get("call_id") == ctx.call_id]
        seen[ctx.call_id] = mine
        if inp.ms:
            await anyio.sleep(inp.ms / 1000)
            done = [e["call_id"] for e in lines(path) if e["type"] == "tool_result"]
            seen[ctx.call_id + ":after"] = done
        return SleepOut(label=inp.label)

    spec = ToolSpec("demo.sleep", "Sleep.", SleepIn, SleepOut, handler, policy_hint="read")
    steps = [
        {"tool_calls": [call("demo.sleep", "s1", ms=0)]},
        {"tool_calls": [call("demo.sleep", "p1", ms=30), call("demo.sleep", "p2", ms=0)]},
        {"text": "done"},
    ]

    async def run() -> None:
        with FileTranscript(path) as transcript:
            inp, _ = make_input(
                steps,
                [spec],
                transcript=transcript,
                policy=gate(),
                is_parallel_safe=read_tools_are_parallel_safe,
            )
            await run_planner_loop(inp)

    anyio.run(run)
    for cid in ("s1", "p1", "p2"):
        assert seen[cid] == ["tool_call", "policy"], cid
    assert "p2" in seen["p1:after"]  # p2 ended while p1 waited: its result was written then


def test_the_request_is_on_disk_while_the_model_answers(tmp_path: Path) -> None:
    """The model is called only once the round's request line (and all before it) is written."""
    path = tmp_path / "t.jsonl"
    last: list[tuple[str, int]] = []

    def step(request: ModelRequest) -> dict[str, Any]:
        final = lines(path)[-1]
        last.append((final["type"], final.get("round", 0)))
        return (
            {"text": "done"} if request.round > 1 else {"tool_calls": [call("demo.echo", text="x")]}
        )

    async def run() -> None:
        with FileTranscript(path) as transcript:
            inp, _ = make_input([step, step], [echo_tool()], transcript=transcript)
            await run_planner_loop(inp)

    anyio.run(run)
    assert last == [("request", 1), ("request", 2)]


def test_dispatch_call_returns_with_its_lines_written(tmp_path: Path) -> None:
    """The gateway's one-call pipeline leaves nothing held."""
    path = tmp_path / "t.jsonl"

    async def run() -> None:
        transcript = FileTranscript(path)
        setup = RoundDispatch(
            ToolRegistry([echo_tool()]), ToolContext("u", "s"), gate(), transcript=transcript
        )
        await dispatch_call(setup, ToolCall(id="c1", name="demo.echo", arguments={"text": "x"}))
        assert [e["type"] for e in lines(path)] == ["header", "tool_call", "policy", "tool_result"]
        transcript.close()

    anyio.run(run)


class OneByOne:
    """A transcript that writes each event as it is recorded (it does not batch)."""

    def __init__(self, path: Path) -> None:
        self.file = FileTranscript(path)

    def record(self, event: AnyEvent) -> None:
        self.file.record(event)


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "window"])
def test_lines_made_together_go_out_in_one_write_with_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """Held lines join one write(2) per flush point, and the file holds what per-event
    writes make: header; run_started+request; response+tool_call+policy for each call
    (the first with the response); each result with what follows it; run_finished."""
    writes: list[bytes] = []
    real_write = os.write

    def counting(fd: int, data: bytes) -> int:
        writes.append(bytes(data))
        return real_write(fd, data)

    steps = [
        {"tool_calls": [call("demo.echo", "a", text="1"), call("demo.echo", "b", text="2")]},
        {"text": "done"},
    ]
    predicate = read_tools_are_parallel_safe if parallel else None

    async def run(transcript: Any) -> None:
        inp, _ = make_input(
            steps, [echo_tool()], transcript=transcript, policy=gate(), is_parallel_safe=predicate
        )
        await run_planner_loop(inp)

    one = OneByOne(tmp_path / "one.jsonl")
    anyio.run(run, one)
    one.file.close()
    monkeypatch.setattr(os, "write", counting)
    with FileTranscript(tmp_path / "held.jsonl") as held:
        anyio.run(run, held)
    monkeypatch.undo()
    assert stable(tmp_path / "held.jsonl") == stable(tmp_path / "one.jsonl")
    kinds = [[json.loads(x)["type"] for x in w.decode().split("\n")[:-1]] for w in writes]
    assert kinds == [
        ["header"],
        ["run_started", "request"],
        ["response", "tool_call", "policy"],
        ["tool_result", "tool_call", "policy"],
        ["tool_result", "request"],
        ["response", "run_finished"],
    ]
    assert list(read_transcript(tmp_path / "held.jsonl"))[-1].type == "run_finished"
