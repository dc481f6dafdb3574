"""Compaction: once per run at 92% of the context, never splitting a call from its result."""

from __future__ import annotations

from planner import Message, ModelRequest, SummarizingCompactor, ToolCall, run_planner_loop
from planner.compaction import split_point
from planner.models import ScriptedModel
from planner.transcript import CompactionEvent, MemoryTranscript
from tests.engine.helpers import call, echo_tool, make_input


def test_split_point_keeps_calls_with_results() -> None:
    tc = ToolCall(id="a", name="x")
    msgs = [
        Message(role="user", content="go"),
        Message(role="assistant", tool_calls=(tc, tc)),
        Message(role="tool", tool_call_id="a"),
        Message(role="tool", tool_call_id="a"),
        Message(role="assistant", content="ok"),
        Message(role="user", content="more"),
    ]
    # the last 4 would start with a tool message: move back to its assistant message
    assert split_point(msgs, 4) == 1
    assert split_point(msgs, 2) == 4


async def test_compacts_once_when_input_reaches_92_percent() -> None:
    summarizer = ScriptedModel(
        [{"text": "Goal\nx\nDecisions\ny\nTools called\ndemo.echo\nCurrent progress\nhalf"}]
    )
    compactor = SummarizingCompactor(summarizer, max_context_tokens=1000)
    big = {"input_tokens": 950}
    steps = [
        {"tool_calls": [call("demo.echo", text="1")], "usage": {"input_tokens": 100}},
        {"tool_calls": [call("demo.echo", text="2")], "usage": {"input_tokens": 500}},
        {"tool_calls": [call("demo.echo", text="3")], "usage": big},
        {"tool_calls": [call("demo.echo", text="4")], "usage": big},
        {"text": "done", "usage": big},
    ]
    transcript = MemoryTranscript()
    inp, model = make_input(steps, [echo_tool()], compactor=compactor, transcript=transcript)
    result = await run_planner_loop(inp)
    assert result.summary == "done"
    assert len(summarizer.requests) == 1  # at most once per run
    summary_request: ModelRequest = summarizer.requests[0]
    assert "Goal" in summary_request.messages[-1].content
    after = model.requests[3].stored_messages
    assert after[0].content.startswith("Summary of the earlier conversation:")
    assert after[1].role == "assistant" and after[1].tool_calls
    assert len(after) == 5  # summary + last 4 verbatim
    events = [e for e in transcript.events if isinstance(e, CompactionEvent)]
    assert len(events) == 1 and events[0].round == 4
