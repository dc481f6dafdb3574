"""Streaming runs: the event iterator keeps the loop's stop reasons, limits, cancellation and
transcript, and text deltas reach it through the DELTA_SINK hook."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from planner import LoopState, ModelRequest, ModelResponse, StopReason, run_planner_loop
from planner.models.base import emit_text
from planner.stream import (
    RoundEnd,
    RunEnd,
    RunEvent,
    TextDelta,
    ToolCallDecided,
    stream_planner_loop,
)
from planner.transcript import EventBase, MemoryTranscript, RunFinished, ToolResultEvent
from tests.engine.helpers import Probe, call, echo_tool, make_input, sleep_tool

STEPS = [
    {"text": "Looking.", "tool_calls": [call("demo.echo", "c1", text="a")]},
    {"text": "All done."},
]


async def collect(inp: Any) -> tuple[list[RunEvent], Any]:
    async with stream_planner_loop(inp) as events:
        seen = [event async for event in events]
    return seen, events.result


def shape(events: list[EventBase]) -> list[tuple[str, Any]]:
    """Transcript events without their timings."""
    skip = {"ts", "latency_ms", "duration_ms"}
    return [(e.type, e.model_dump(exclude=skip)) for e in events]  # type: ignore[attr-defined]


async def test_events_come_in_run_order_and_end_with_the_result() -> None:
    inp, _ = make_input(STEPS, [echo_tool()])
    seen, result = await collect(inp)
    kinds = [type(e).__name__ for e in seen]
    assert kinds == [
        "TextDelta",
        "ToolCallDecided",
        "ToolResultEvent",
        "RoundEnd",
        "TextDelta",
        "RoundEnd",
        "RunEnd",
    ]
    assert isinstance(seen[1], ToolCallDecided) and seen[1].call.id == "c1"
    assert (
        isinstance(seen[2], ToolResultEvent) and seen[2].success and seen[2].data == {"echoed": "a"}
    )
    ends = [e for e in seen if isinstance(e, RoundEnd)]
    assert [(e.round, e.text, e.tool_calls) for e in ends] == [
        (1, "Looking.", 1),
        (2, "All done.", 0),
    ]
    assert isinstance(seen[-1], RunEnd) and seen[-1].result is result
    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert result.summary == "All done."


async def test_a_streamed_run_records_the_same_transcript_as_a_plain_run() -> None:
    plain, streamed = MemoryTranscript(), MemoryTranscript()
    inp, _ = make_input(STEPS, [echo_tool()], transcript=plain)
    expected = await run_planner_loop(inp)
    inp, _ = make_input(STEPS, [echo_tool()], transcript=streamed)
    _, result = await collect(inp)
    assert shape(streamed.events) == shape(plain.events)
    assert result.stop_reason is expected.stop_reason and result.rounds == expected.rounds


async def test_limits_end_a_streamed_run_with_the_same_stop_reason() -> None:
    steps = [{"tool_calls": [call("demo.echo", text=str(i))]} for i in range(4)]
    inp, _ = make_input(steps, [echo_tool()], max_rounds=2)
    seen, result = await collect(inp)
    assert result.stop_reason is StopReason.MAX_ROUNDS
    assert [e.round for e in seen if isinstance(e, RoundEnd)] == [1, 2]


class DeltaModel:
    """Streams its answer through emit_text in three pieces, as a streaming adapter does."""

    model_id = "delta"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        for piece in ("Hel", "lo ", "there"):
            emit_text(piece)
            await anyio.sleep(0)
        return ModelResponse(text="Hello there")


async def test_streamed_deltas_are_stamped_and_not_repeated() -> None:
    inp, _ = make_input([], [], model=DeltaModel())
    seen, result = await collect(inp)
    deltas = [e for e in seen if isinstance(e, TextDelta)]
    assert [d.text for d in deltas] == ["Hel", "lo ", "there"]
    assert {(d.round, d.path) for d in deltas} == {(1, "")}
    assert "".join(d.text for d in deltas) == result.summary


async def test_deltas_outside_a_stream_go_nowhere() -> None:
    inp, _ = make_input([], [], model=DeltaModel())
    result = await run_planner_loop(inp)
    assert result.summary == "Hello there"


async def test_leaving_early_cancels_the_run_and_records_it() -> None:
    transcript = MemoryTranscript()
    probe = Probe()
    steps = [{"tool_calls": [call("demo.sleep", ms=5000)]}, {"text": "never"}]
    inp, _ = make_input(steps, [sleep_tool(probe)], transcript=transcript)
    async with stream_planner_loop(inp) as events:
        async for event in events:
            if isinstance(event, ToolCallDecided):
                break
    assert events.result is not None  # the run still ends with a result
    assert events.result.stop_reason is StopReason.CANCELLED
    finished = [e for e in transcript.events if isinstance(e, RunFinished)]
    assert [f.stop_reason for f in finished] == ["cancelled"]
    assert probe.finished == []


async def test_a_cancelled_caller_cancels_the_run() -> None:
    transcript = MemoryTranscript()
    steps = [{"tool_calls": [call("demo.sleep", ms=5000)]}, {"text": "never"}]
    inp, _ = make_input(steps, [sleep_tool(Probe())], transcript=transcript)
    with anyio.move_on_after(0.2):
        async with stream_planner_loop(inp) as events:
            async for _event in events:
                pass
    finished = [e for e in transcript.events if isinstance(e, RunFinished)]
    assert [f.stop_reason for f in finished] == ["cancelled"]


async def test_a_failure_the_loop_raises_comes_out_unwrapped() -> None:
    def channel(state: LoopState) -> list[str]:
        raise KeyError("broken channel")

    inp, _ = make_input([{"text": "x"}], [], reminder_channel=channel)
    with pytest.raises(KeyError) as plain:
        await run_planner_loop(inp)
    inp, _ = make_input([{"text": "x"}], [], reminder_channel=channel)
    with pytest.raises(KeyError) as streamed:
        await collect(inp)
    assert str(streamed.value) == str(plain.value)


async def test_an_error_in_the_consumer_cancels_the_run_and_comes_out_as_it_is() -> None:
    transcript = MemoryTranscript()
    steps = [{"tool_calls": [call("demo.sleep", ms=5000)]}, {"text": "never"}]
    inp, _ = make_input(steps, [sleep_tool(Probe())], transcript=transcript)
    with pytest.raises(ValueError, match="consumer broke"):
        async with stream_planner_loop(inp) as events:
            async for _event in events:
                raise ValueError("consumer broke")
    finished = [e for e in transcript.events if isinstance(e, RunFinished)]
    assert [f.stop_reason for f in finished] == ["cancelled"]
