"""The loop never raises for anything a model or a tool produces (issue 12, item 3)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from planner import StopReason, ToolContext, ToolResult, ToolSpec, run_planner_loop
from planner.jsondata import MAX_JSON_DEPTH, json_problem
from planner.models.common import parse_arguments
from planner.transcript import FileTranscript, ToolCallEvent, ToolResultEvent, read_transcript
from tests.engine.helpers import Empty, call, make_input


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)


def returning(output: Any, name: str = "demo.out") -> ToolSpec[Empty, Loose]:
    async def handler(ctx: ToolContext, inp: Empty) -> Any:
        return output

    return ToolSpec(name, "Returns what it was given.", Empty, Loose, handler, policy_hint="read")


async def run_and_read(tmp_path: Path, steps: list[Any], tools: list[Any]) -> Any:
    path = tmp_path / "run.jsonl"
    with FileTranscript(path) as transcript:
        inp, model = make_input(steps, tools, transcript=transcript)
        result = await run_planner_loop(inp)
    return result, list(read_transcript(path)), model


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 250, 10_000])
async def test_arguments_nested_too_deeply_are_an_error_result(tmp_path: Path, depth: int) -> None:
    steps = [{"tool_calls": [call("demo.out", "c1", deep=nested(depth))]}, {"text": "done"}]
    result, events, _ = await run_and_read(tmp_path, steps, [returning({})])
    assert result.stop_reason is StopReason.ASSISTANT_STOP
    res = result.executed_calls[0].result
    assert not res.success and f"nested deeper than {MAX_JSON_DEPTH} levels" in res.message
    recorded = next(e for e in events if isinstance(e, ToolCallEvent))
    assert recorded.arguments == {}


async def test_arguments_at_the_limit_run(tmp_path: Path) -> None:
    steps = [
        {"tool_calls": [call("demo.out", "c1", deep=nested(MAX_JSON_DEPTH - 1))]},
        {"text": "done"},
    ]
    spec = returning({"ok": True})
    spec = ToolSpec(spec.name, "x", Loose, Loose, spec.handler, policy_hint="read")
    result, _, _ = await run_and_read(tmp_path, steps, [spec])
    assert result.executed_calls[0].result.success


class Opaque:
    pass


def _cycle() -> Any:
    loop: list[Any] = []
    loop.append(loop)
    return {"loop": loop}


BAD_OUTPUTS = {
    "set": ToolResult(True, "ok", {"s": {1, 2}}),
    "bytes": ToolResult(True, "ok", b"\x00\xff"),
    "nan": ToolResult(True, "ok", {"x": math.nan}),
    "inf": ToolResult(True, "ok", [math.inf]),
    "cycle": ToolResult(True, "ok", _cycle()),
    "object": ToolResult(True, "ok", Opaque()),
    "deep": ToolResult(True, "ok", nested(10_000)),
    "surrogate": ToolResult(True, "ok", "\ud800"),
    "int key": ToolResult(True, "ok", {1: "one"}),
    "model with an object": Loose(thing=Opaque()),
    "plain object": Opaque(),
    "bad usage": ToolResult(True, "ok", None, usage={"input_tokens": 1}),  # type: ignore[arg-type]
    "bad message": ToolResult(True, None, None),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("output", BAD_OUTPUTS.values(), ids=BAD_OUTPUTS.keys())
async def test_output_that_is_not_json_is_an_error_result(tmp_path: Path, output: Any) -> None:
    steps = [{"tool_calls": [call("demo.out", "c1")]}, {"text": "done"}]
    result, events, model = await run_and_read(tmp_path, steps, [returning(output)])
    assert result.stop_reason is StopReason.ASSISTANT_STOP
    res = result.executed_calls[0].result
    assert not res.success and res.message.startswith("tool demo.out returned")
    recorded = next(e for e in events if isinstance(e, ToolResultEvent))
    assert recorded.success is False and recorded.message == res.message
    assert len(model.requests) == 2


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000,
        "{" * 100_000,
        '{"a": ' * 100_000,
        '{"x": NaN}',
        '{"x": Infinity}',
        '{"x": 1',
        "[1, 2]",
        '"text"',
        "null",
        '{"a": ' + "[" * 70 + "]" * 70 + "}",
        '{"a": "\\ud800"}',
    ],
    ids=lambda raw: raw[:12],
)
def test_argument_parsing_never_raises(raw: str) -> None:
    arguments, error = parse_arguments(raw)
    assert arguments == {} and error is not None
    assert error.startswith("arguments")


def test_argument_parsing_accepts_plain_objects() -> None:
    assert parse_arguments('{"a": [1, 2.5, null, true, "x"]}') == (
        {"a": [1, 2.5, None, True, "x"]},
        None,
    )
    assert parse_arguments({"a": 1}) == ({"a": 1}, None)
    assert parse_arguments("  ") == ({}, None)


async def test_an_output_model_dumps_in_json_mode(tmp_path: Path) -> None:
    steps = [{"tool_calls": [call("demo.out", "c1")]}, {"text": "done"}]
    result, _, _ = await run_and_read(tmp_path, steps, [returning(Loose(tags={1, 2}))])
    assert result.executed_calls[0].result.data == {"tags": [1, 2]}


def test_json_problem_names_what_is_wrong() -> None:
    shared = {"k": [1, 2]}
    assert json_problem({"a": shared, "b": shared, "c": [shared] * 3}) is None
    assert json_problem(_cycle()) == "a value contains itself (a cycle)"
    assert json_problem({"s": {1}}) == "a set is not JSON data"
    assert json_problem(nested(MAX_JSON_DEPTH)) is None
    assert json_problem(nested(MAX_JSON_DEPTH + 1)) == "nested deeper than 64 levels"


async def test_output_the_transcript_refuses_is_an_error_result_the_model_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("planner.transcript.MAX_LINE_BYTES", 4000)
    steps = [{"tool_calls": [call("demo.out", "c1")]}, {"text": "done"}]
    big = ToolResult(True, "ok", {"x": "a" * 5000})
    result, events, model = await run_and_read(tmp_path, steps, [returning(big)])
    res = result.executed_calls[0].result
    assert not res.success and "the transcript refuses" in res.message
    assert "4000-byte line limit" in res.message
    recorded = next(e for e in events if isinstance(e, ToolResultEvent))
    assert recorded.success is False and recorded.data is None
    assert result.stop_reason is StopReason.ASSISTANT_STOP and len(model.requests) == 2
