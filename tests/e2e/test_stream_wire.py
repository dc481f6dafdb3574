"""Streaming against the fake server: SSE and JSON runs of the same model record the same
transcript apart from timings, and SSE text reaches the event iterator as it arrives."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from planner import run_planner_loop
from planner.stream import RoundEnd, TextDelta, ToolCallDecided, stream_planner_loop
from planner.testing import FakeCall, FakeLLMServer, Reply
from planner.transcript import EventBase, MemoryTranscript, RetryEvent
from tests.e2e.conftest import KINDS, MakeModel
from tests.engine.helpers import echo_tool, loop_input

TIMINGS = {"ts", "latency_ms", "duration_ms"}


class Plan(BaseModel):
    steps: list[str]


def replies(structured: bool) -> list[Reply]:
    calls = [
        FakeCall("demo__echo", {"text": "ä first"}, id="c1"),
        FakeCall("demo__echo", {"text": "second"}, id="c2"),
    ]
    last = Reply(output={"steps": ["a", "b"]}) if structured else Reply(text="All done, bye.")
    return [
        Reply(text="Let me look at both.", tool_calls=calls, input_tokens=40, output_tokens=9),
        Reply(text="One more.", tool_calls=[FakeCall("demo__echo", {"text": "x"}, id="c3")]),
        last,
    ]


def without_timings(events: list[EventBase]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json", exclude=TIMINGS) for e in events]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("structured", [False, True], ids=["text", "structured"])
async def test_sse_and_json_runs_record_the_same_transcript(
    kind: str, structured: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    recorded: dict[bool, MemoryTranscript] = {}
    for stream in (False, True):
        llm_server.push(*replies(structured))
        transcript = MemoryTranscript()
        inp = loop_input(
            make_model(kind, stream=stream),
            [echo_tool()],
            transcript=transcript,
            output_model=Plan if structured else None,
        )
        await run_planner_loop(inp)
        recorded[stream] = transcript
    assert [r.stream for r in llm_server.requests] == [False] * 3 + [True] * 3
    plain, streamed = (without_timings(recorded[s].events) for s in (False, True))
    assert streamed == plain
    assert plain[-1]["type"] == "run_finished" and plain[-1]["stop_reason"] == "assistant_stop"


@pytest.mark.parametrize("kind", KINDS)
async def test_sse_text_reaches_the_iterator_in_pieces_and_json_in_one(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    for stream in (True, False):
        llm_server.push(*replies(structured=False))
        inp = loop_input(make_model(kind, stream=stream), [echo_tool()])
        async with stream_planner_loop(inp) as events:
            seen = [e async for e in events]
        assert events.result is not None
        first_round = [e for e in seen if isinstance(e, TextDelta) and e.round == 1]
        assert "".join(d.text for d in first_round) == "Let me look at both."
        assert len(first_round) == (5 if stream else 1)  # the fake server sends 4-char pieces
        decided = [e.call.id for e in seen if isinstance(e, ToolCallDecided)]
        assert decided == ["c1", "c2", "c3"]
        text_before_calls = seen.index(first_round[-1]) < seen.index(
            next(e for e in seen if isinstance(e, ToolCallDecided))
        )
        assert text_before_calls
        assert [e.round for e in seen if isinstance(e, RoundEnd)] == [1, 2, 3]
        assert events.result.summary == "All done, bye."


@pytest.mark.parametrize("kind", KINDS)
async def test_a_retry_shows_in_the_stream_before_the_text_of_the_attempt_that_worked(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply.error(429, {"retry-after": "0"}), Reply(text="Back again."))
    inp = loop_input(make_model(kind, stream=True), [])
    async with stream_planner_loop(inp) as events:
        seen = [e async for e in events]
    retries = [i for i, e in enumerate(seen) if isinstance(e, RetryEvent)]
    deltas = [i for i, e in enumerate(seen) if isinstance(e, TextDelta)]
    assert len(retries) == 1 and deltas and retries[0] < deltas[0]
    assert "".join(e.text for e in seen if isinstance(e, TextDelta)) == "Back again."
    assert isinstance(seen[retries[0]], RetryEvent) and seen[retries[0]].status == 429
