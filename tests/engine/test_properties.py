"""Property tests: transcript write/read round trip and the dispatch path (issue 12, item 8)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from planner import (
    ExecutedCall,
    PolicyGate,
    PolicyMode,
    RoundDispatch,
    ToolCall,
    ToolContext,
    ToolRegistry,
    ToolResult,
    ToolSpec,
    Usage,
    dispatch_call,
)
from planner.errors import TranscriptError
from planner.jsondata import json_problem
from planner.transcript import (
    FileTranscript,
    Header,
    RunFinished,
    RunStarted,
    ToolCallEvent,
    ToolResultEvent,
    read_transcript,
)

pytestmark = pytest.mark.property

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def deep(depth: int, leaf: Any) -> Any:
    for i in range(depth):
        leaf = [leaf] if i % 2 else {"k": leaf}
    return leaf


def write_and_read(value: Any) -> tuple[list[Any], list[Any]] | None:
    """Record a run holding `value` everywhere a value goes; None when the writer refuses."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        events: list[Any] = [
            RunStarted(model="m", system_prompt="s", user_prompt="u", settings={"v": value}),
            ToolCallEvent(round=1, call_id="c1", name="x.y", arguments={"v": value}),
            ToolResultEvent(
                round=1, call_id="c1", name="x.y", success=True, message="", data=value
            ),
            RunFinished(stop_reason="assistant_stop", rounds=1, tool_calls=1),
        ]
        with FileTranscript(path) as transcript:
            try:
                for event in events:
                    transcript.record(event)
            except TranscriptError:
                written = path.read_bytes()
                assert written.endswith(b"\n")  # a refused event wrote nothing
                return None
        return events, list(read_transcript(path))


@given(JSON)
def test_whatever_the_writer_accepts_the_reader_reads_back(value: Any) -> None:
    outcome = write_and_read(value)
    assert outcome is not None  # plain JSON data of ordinary depth is always accepted
    written, read = outcome
    assert isinstance(read[0], Header)
    assert read[1:] == written


@given(st.integers(min_value=1, max_value=400), JSON_SCALARS)
def test_deep_values_round_trip_or_are_refused(depth: int, leaf: Any) -> None:
    outcome = write_and_read(deep(depth, leaf))
    if outcome is not None:
        written, read = outcome
        assert read[1:] == written


def test_250_levels_round_trip() -> None:
    outcome = write_and_read(deep(250, "x"))
    assert outcome is not None
    assert outcome[1][1:] == outcome[0]


class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


NOT_JSON = (
    st.sets(st.integers(), max_size=3)
    | st.binary(max_size=8)
    | st.sampled_from([math.nan, math.inf, -math.inf])
    | st.builds(Opaque)
    | st.integers(min_value=65, max_value=3000).map(lambda d: deep(d, 1))
)
ANY_VALUE = st.recursive(
    JSON_SCALARS | NOT_JSON,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
        | st.tuples(inner, inner)
    ),
    max_leaves=10,
)
OUTPUTS = (
    ANY_VALUE
    | st.builds(ToolResult, st.booleans(), st.text(max_size=20), ANY_VALUE)
    | st.builds(
        ToolResult,
        st.booleans(),
        st.text(max_size=5),
        ANY_VALUE,
        st.builds(Usage, input_tokens=st.integers(0, 10**6)) | st.none() | ANY_VALUE,
    )
    | st.sampled_from([RuntimeError("boom"), TimeoutError(), KeyError("k")])
)


class Loose(BaseModel):
    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)


def spec_returning(output: Any) -> ToolSpec[Loose, Loose]:
    async def handler(ctx: ToolContext, inp: Loose) -> Any:
        if isinstance(output, BaseException):
            raise output
        return output

    return ToolSpec("demo.any", "Anything.", Loose, Loose, handler, policy_hint="read")


@given(
    arguments=st.dictionaries(st.text(max_size=8), ANY_VALUE, max_size=4),
    output=OUTPUTS,
    name=st.sampled_from(["demo.any", "demo.missing"]),
)
def test_dispatch_always_gives_an_executed_call(
    arguments: dict[str, Any], output: Any, name: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        with FileTranscript(path) as transcript:
            transcript.record(RunStarted(model="m", system_prompt="s", user_prompt="u"))
            setup = RoundDispatch(
                ToolRegistry([spec_returning(output)]),
                ToolContext("u1", "s1", "r1"),
                PolicyGate(mode=PolicyMode.ENFORCE),
                transcript=transcript,
            )
            call = ToolCall(id="c1", name=name, arguments=arguments)
            executed = anyio.run(dispatch_call, setup, call)
        events = list(read_transcript(path))
    assert isinstance(executed, ExecutedCall)
    assert isinstance(executed.result.success, bool) and isinstance(executed.result.message, str)
    if executed.result.success:
        assert json_problem(executed.result.data) is None
    assert [type(e) for e in events[2:]][-1] is ToolResultEvent
    result_event = events[-1]
    assert isinstance(result_event, ToolResultEvent)
    assert result_event.success == executed.result.success
    assert result_event.message == executed.result.message
