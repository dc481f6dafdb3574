"""The write path's msgspec records: the lines they make are the lines the reader parses."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner import ToolContext, run_planner_loop
from planner.dispatch import for_call
from planner.errors import TranscriptError
from planner.messages import Message, ToolCall, Usage
from planner.records import EventRecord, as_event, encode_fast
from planner.transcript import (
    CompactionEvent,
    EventBase,
    FileTranscript,
    MemoryTranscript,
    PolicyEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RunStarted,
    ToolCallEvent,
    ToolResultEvent,
    new_event,
    parse_event,
    read_transcript,
)
from tests.engine.helpers import call, echo_tool, make_input

json_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)
usage = st.builds(
    Usage,
    input_tokens=st.integers(0, 10**9),
    output_tokens=st.integers(0, 10**9),
    cost_usd=st.floats(0, 1e6),
)
tool_call = st.builds(
    ToolCall, id=st.text(), name=st.text(), arguments=st.dictionaries(st.text(), json_data)
)
FIELDS: dict[type[EventBase], st.SearchStrategy[dict[str, Any]]] = {
    ToolCallEvent: st.fixed_dictionaries(
        {"round": st.integers(0), "call_id": st.text(), "name": st.text()},
        optional={"arguments": st.dictionaries(st.text(), json_data)},
    ),
    PolicyEvent: st.fixed_dictionaries(
        {
            "round": st.integers(0),
            "call_id": st.text(),
            "tool": st.text(),
            "verdict": st.sampled_from(["allow", "deny", "flagged"]),
            "reason": st.none() | st.text(),
            "flagged": st.none() | st.text(),
            "mode": st.text(),
        }
    ),
    ToolResultEvent: st.fixed_dictionaries(
        {
            "round": st.integers(0),
            "call_id": st.text(),
            "name": st.text(),
            "success": st.booleans(),
            "message": st.text(),
            "data": json_data,
            "duration_ms": st.floats(0, 1e9),
            "usage": st.none() | usage,
        }
    ),
    RequestEvent: st.fixed_dictionaries(
        {
            "round": st.integers(0),
            "messages_added": st.lists(
                st.builds(
                    Message,
                    role=st.sampled_from(["user", "assistant", "tool"]),
                    content=st.text(),
                    tool_calls=st.lists(tool_call, max_size=2).map(tuple),
                ),
                max_size=3,
            ),
            "reminders": st.lists(st.text(), max_size=2),
        }
    ),
    ResponseEvent: st.fixed_dictionaries(
        {
            "round": st.integers(0),
            "text": st.text(),
            "tool_calls": st.lists(tool_call, max_size=3),
            "usage": usage,
            "latency_ms": st.floats(0, 1e9),
        }
    ),
    RetryEvent: st.fixed_dictionaries(
        {
            "round": st.integers(0),
            "attempt": st.integers(1, 9),
            "error": st.text(),
            "wait_s": st.floats(0, 60),
            "status": st.none() | st.integers(100, 599),
        }
    ),
    CompactionEvent: st.fixed_dictionaries(
        {"round": st.integers(0), "removed": st.integers(0), "summary": st.text()}
    ),
}


def _no_surrogates(value: Any) -> bool:
    try:
        repr(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.property
@given(st.sampled_from(list(FIELDS)).flatmap(lambda k: st.tuples(st.just(k), FIELDS[k])))
def test_a_record_reads_back_as_the_event_pydantic_would_have_built(
    kind_and_fields: tuple[type[EventBase], dict[str, Any]],
) -> None:
    """Every hot event: the record's line parses to the validated event of the same fields."""
    kind, fields = kind_and_fields
    record = new_event(kind, run_id="r1", path="c1/sub", ts=1.5, **fields)
    assert isinstance(record, EventRecord)
    typed = kind(run_id="r1", path="c1/sub", ts=1.5, **fields)
    assert as_event(record) == typed
    if _no_surrogates(fields):
        assert parse_event(encode_fast(record)) == typed


def test_a_record_writes_the_bytes_the_pydantic_event_writes() -> None:
    """Same field names, order and defaults as the event model: byte-identical lines."""
    fields = {"round": 2, "call_id": "c1", "name": "demo.echo", "arguments": {"text": "hé"}}
    record = new_event(ToolCallEvent, run_id="r1", ts=3.25, **fields)
    typed = ToolCallEvent(run_id="r1", ts=3.25, **fields)
    assert encode_fast(record) == typed.__pydantic_serializer__.to_json(typed)


def test_run_started_stays_a_validated_event() -> None:
    """Events with free-form settings keep pydantic's serializer and its refusals."""
    event = new_event(RunStarted, model="m", system_prompt="s", user_prompt="u")
    assert isinstance(event, RunStarted)


@pytest.mark.parametrize(
    "data",
    [{"text": "lone \ud800 surrogate"}, {"thing": object()}],
    ids=["surrogate", "not-json"],
)
def test_a_record_the_reader_could_not_read_is_refused_and_nothing_is_written(
    tmp_path: Path, data: dict[str, Any]
) -> None:
    """msgspec's failures go through the typed event, which refuses as it always did."""
    path = tmp_path / "t.jsonl"
    with FileTranscript(path) as transcript:
        size = path.stat().st_size
        record = new_event(
            ToolResultEvent, run_id="r", round=1, call_id="c", name="n", success=True,
            message="ok", data=data,
        )  # fmt: skip
        with pytest.raises(TranscriptError, match="cannot write a tool_result event"):
            transcript.record(record)
        assert path.stat().st_size == size


def test_memory_transcripts_and_readers_see_typed_events(tmp_path: Path) -> None:
    """A run's records reach memory transcripts as pydantic events; the file reads back."""
    import anyio

    steps = [{"tool_calls": [call("demo.echo", "c1", text="hi")]}, {"text": "done"}]
    memory = MemoryTranscript()
    path = tmp_path / "run.jsonl"

    async def run() -> None:
        inp, _ = make_input(steps, [echo_tool()], transcript=memory)
        await run_planner_loop(inp)
        with FileTranscript(path) as transcript:
            inp, _ = make_input(steps, [echo_tool()], transcript=transcript)
            await run_planner_loop(inp)

    anyio.run(run)
    assert all(isinstance(e, EventBase) for e in memory.events)
    kinds = [e.type for e in memory.events]  # type: ignore[attr-defined]
    assert kinds == [e.type for e in read_transcript(path)][1:]  # type: ignore[attr-defined]
    assert "tool_result" in kinds


@given(
    st.builds(
        ToolContext,
        user_id=st.text(),
        space_id=st.text(),
        run_id=st.text(),
        token_budget_left=st.none() | st.integers(),
        cost_budget_left_usd=st.none() | st.floats(allow_nan=False),
    ),
    st.text(),
    st.text(),
)
def test_for_call_is_replace(ctx: ToolContext, call_id: str, path: str) -> None:
    """The per-call context copy equals dataclasses.replace and leaves the original alone."""
    before = replace(ctx)
    made = for_call(ctx, call_id, path)
    assert made == replace(ctx, call_id=call_id, transcript_path=path)
    assert ctx == before


def test_a_round_whose_calls_never_wait_runs_them_in_the_loops_task() -> None:
    """The window's helper tasks start only once a call waits."""
    import anyio

    from planner import ToolSpec
    from planner.tools import read_tools_are_parallel_safe
    from tests.engine.helpers import EchoIn, EchoOut

    seen: list[asyncio.Task[Any] | None] = []

    async def handler(ctx: ToolContext, inp: EchoIn) -> EchoOut:
        seen.append(asyncio.current_task())
        if inp.text == "wait":
            await anyio.sleep(0.01)
        return EchoOut(echoed=inp.text)

    spec = ToolSpec("demo.echo", "Echo.", EchoIn, EchoOut, handler, policy_hint="read")
    now = [call("demo.echo", f"n{i}", text="now") for i in range(4)]
    waits = [call("demo.echo", f"w{i}", text="wait") for i in range(4)]
    steps = [{"tool_calls": now}, {"tool_calls": waits}, {"text": "done"}]

    async def run() -> asyncio.Task[Any] | None:
        inp, _ = make_input(steps, [spec], is_parallel_safe=read_tools_are_parallel_safe)
        result = await run_planner_loop(inp)
        assert [e.call.id for e in result.executed_calls] == [c["id"] for c in now + waits]
        return asyncio.current_task()

    loop_task = anyio.run(run)
    assert seen[:4] == [loop_task] * 4
    assert len(set(seen[4:])) == 4  # the waiting round ran in four tasks at once


def test_nested_messages_write_the_bytes_pydantic_writes() -> None:
    """Messages, tool calls and usage inside a record: the same bytes as the typed event."""
    calls = (ToolCall(id="c1", name="demo.echo", arguments={"text": "hé", "n": [1, 2.5]}),)
    messages = [
        Message(role="user", content="go"),
        Message(role="assistant", content="", tool_calls=calls),
        Message(role="tool", tool_call_id="c1", name="demo.echo", content="{}", is_error=True),
    ]
    request = {"round": 3, "messages_added": messages, "reminders": ["r"]}
    response = {"round": 3, "tool_calls": list(calls), "usage": Usage(input_tokens=5)}
    for kind, fields in ((RequestEvent, request), (ResponseEvent, response)):
        typed = kind(run_id="r1", ts=2.0, **fields)
        record = new_event(kind, run_id="r1", ts=2.0, **fields)
        assert encode_fast(record) == typed.__pydantic_serializer__.to_json(typed)
