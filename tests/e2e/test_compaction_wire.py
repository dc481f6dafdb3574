"""Compaction through a real adapter: its model call must obey the loop's contract too.

The summarizing call is a model call like any other: its failure ends the run with a typed stop
(never an exception out of run_planner_loop), its usage counts toward the run's usage and budgets,
and its request must be one the provider accepts.

Setup: keep_last=2 and a 100-token context. Round 2 reports 95 input tokens (>= 92%), so round 3
starts by compacting [user, a1, t1, a2, t2] into [summary, a2, t2]; the summarized part holds the
round-1 tool call and its result.
"""

from __future__ import annotations

import pytest

from planner import StopReason, SummarizingCompactor, run_planner_loop
from planner.testing import FakeCall, FakeLLMServer, Reply
from planner.transcript import CompactionEvent, MemoryTranscript, RunFinished
from tests.e2e.conftest import MakeModel
from tests.engine.helpers import echo_tool, loop_input

KINDS = pytest.mark.parametrize("kind", ["anthropic", "chat"])
SUMMARY = "Goal\nx\nDecisions\nnone\nTools called\ndemo.echo\nCurrent progress\nhalf"


def first_two_rounds() -> list[Reply]:
    return [
        Reply(tool_calls=[FakeCall("demo__echo", {"text": "1"}, id="c1")], input_tokens=10),
        Reply(tool_calls=[FakeCall("demo__echo", {"text": "2"}, id="c2")], input_tokens=95),
    ]


@KINDS
async def test_compaction_usage_counts_toward_the_run(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        *first_two_rounds(),
        Reply(text=SUMMARY, input_tokens=500, output_tokens=50),  # the summarizing call
        Reply(text="done", input_tokens=20),
    )
    model = make_model(kind)
    transcript = MemoryTranscript()
    inp = loop_input(
        model,
        [echo_tool()],
        compactor=SummarizingCompactor(model, max_context_tokens=100, keep_last=2),
        transcript=transcript,
    )
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert len(llm_server.requests) == 4
    assert len([e for e in transcript.events if isinstance(e, CompactionEvent)]) == 1
    # 10 + 95 + 500 (summary) + 20: the summarizing call was paid for like any other
    assert result.usage.input_tokens == 625
    assert result.usage.output_tokens == 7 + 7 + 50 + 7


@KINDS
async def test_a_failed_compaction_call_ends_the_run_with_model_error(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(*first_two_rounds(), Reply.error(400, message="prompt is too long"))
    model = make_model(kind)
    transcript = MemoryTranscript()
    inp = loop_input(
        model,
        [echo_tool()],
        compactor=SummarizingCompactor(model, max_context_tokens=100, keep_last=2),
        transcript=transcript,
    )
    result = await run_planner_loop(inp)  # must not raise

    assert result.stop_reason is StopReason.MODEL_ERROR
    assert result.error is not None and "prompt is too long" in result.error
    finished = transcript.events[-1]
    assert isinstance(finished, RunFinished) and finished.stop_reason == "model_error"


async def test_anthropic_compaction_request_declares_tools_when_it_carries_tool_blocks(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    # Anthropic answers 400 "Requests which include tool_use or tool_result blocks must define
    # tools." (anthropic-sdk-python#494); the fake server does not check it, so check the body.
    llm_server.push(*first_two_rounds(), Reply(text=SUMMARY), Reply(text="done"))
    model = make_model("anthropic")
    inp = loop_input(
        model,
        [echo_tool()],
        compactor=SummarizingCompactor(model, max_context_tokens=100, keep_last=2),
    )
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.ASSISTANT_STOP

    body = llm_server.requests[2].body  # the summarizing request
    assert "Summarize the conversation" in str(body["messages"][-1])
    tool_blocks = [
        b["type"]
        for turn in body["messages"]
        for b in turn["content"]
        if b["type"] in ("tool_use", "tool_result")
    ]
    assert not tool_blocks or body.get("tools"), (
        f"the request carries {tool_blocks} but declares no tools"
    )
