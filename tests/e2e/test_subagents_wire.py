"""Sub-agents at the wire level: the `task` contract of tests/engine/test_subagents.py, held
through real adapters talking HTTP to the fake server (issue 8).

Parent and sub-agent share one model (the kinds in DEFAULT_SUBAGENTS have none of their own), so
the fake server answers them from one queue, in order: parent round 1, the sub-agent's rounds,
then parent round 2.
"""

from __future__ import annotations

import pytest

from planner import LoopState, StopReason, run_planner_loop
from planner.subagents import DEFAULT_SUBAGENT_PROMPT, DEFAULT_SUBAGENTS
from planner.testing import FakeCall, FakeLLMServer, Reply
from planner.tools import read_tools_are_parallel_safe
from planner.transcript import MemoryTranscript, RunFinished
from tests.e2e.conftest import MakeModel
from tests.e2e.wire import history, reminders_anywhere, system_text, tool_results, user_texts
from tests.engine.helpers import Probe, echo_tool, loop_input, plain_tool
from tests.models.helpers import wire_history_call_names as history_call_names
from tests.models.helpers import wire_tool_names as tool_names

PARENT_SYSTEM = "You are the parent agent."
PARENT_PROMPT = "Brief me on x."
SUB_PROMPT = "Find everything about x and summarize it."


@pytest.mark.parametrize(
    ("kind", "stream"),
    [("anthropic", False), ("chat", False), ("responses", True)],
    ids=["anthropic-json", "chat-json", "responses-sse"],
)
async def test_research_sub_agent_has_fresh_context_read_tools_and_one_result(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    writes = Probe()
    task_args = {"subagent_type": "research", "description": "research x", "prompt": SUB_PROMPT}
    llm_server.push(
        # parent, round 1: delegate
        Reply(text="Delegating.", tool_calls=[FakeCall("task", task_args, id="t1")]),
        # sub-agent, round 1: a read, and a write it was not given
        Reply(
            tool_calls=[
                FakeCall("demo__echo", {"text": "x"}, id="s1"),
                FakeCall("todo__create", {}, id="s2"),
            ]
        ),
        # sub-agent, round 2: its final answer
        Reply(text="x is a letter."),
        # parent, round 2
        Reply(text="Briefing: x is a letter."),
    )
    transcript = MemoryTranscript()

    def parent_notes(state: LoopState) -> list[str]:
        return [f"parent note {state.round}"]

    inp = loop_input(
        make_model(kind, stream=stream),
        [echo_tool(), plain_tool("todo.create", "write", counter=writes)],
        system_prompt=PARENT_SYSTEM,
        user_prompt=PARENT_PROMPT,
        subagents=DEFAULT_SUBAGENTS,
        reminder_channel=parent_notes,
        is_parallel_safe=read_tools_are_parallel_safe,
        transcript=transcript,
    )
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert result.summary == "Briefing: x is a letter."
    assert len(llm_server.requests) == 4
    parent_1, sub_1, sub_2, parent_2 = (r.body for r in llm_server.requests)

    # the parent sees every tool plus `task`
    assert sorted(tool_names(kind, parent_1)) == ["demo__echo", "task", "todo__create"]

    # the sub-agent: its own system prompt, only the prompt, read tools only, no parent reminder
    assert system_text(kind, sub_1) == DEFAULT_SUBAGENT_PROMPT
    assert user_texts(kind, sub_1) == [SUB_PROMPT]
    expected_items = 2 if kind != "anthropic" else 1  # OpenAI: system/developer + user
    assert len(history(kind, sub_1)) == expected_items
    assert tool_names(kind, sub_1) == ["demo__echo"]
    assert reminders_anywhere(sub_1) == []
    assert PARENT_PROMPT not in str(sub_1) and PARENT_SYSTEM not in str(sub_1)

    # inside the sub-agent: the read ran, the write is an unknown tool, nothing was written
    sub_results = tool_results(kind, sub_2)
    assert [r.call_id for r in sub_results] == ["s1", "s2"]
    assert sub_results[0].body["data"] == {"echoed": "x"}
    assert "unknown tool 'todo.create'" in sub_results[1].body["message"]
    assert writes.calls == 0
    assert PARENT_PROMPT not in str(sub_2)

    # the parent: exactly one tool result, holding the sub-agent's final text
    (back,) = tool_results(kind, parent_2)
    assert back.call_id == "t1"
    assert back.body["success"] is True
    assert back.body["message"] == "x is a letter."
    assert back.body["data"]["subagent_type"] == "research"
    assert back.body["data"]["rounds"] == 2 and back.body["data"]["tool_calls"] == 2
    assert back.body["data"]["usage"]["input_tokens"] == 24  # the fake's 12 per response
    assert history_call_names(kind, parent_2) == ["task"]  # the sub-agent's calls stay out
    assert user_texts(kind, parent_2) == [PARENT_PROMPT]
    assert reminders_anywhere(parent_2) == ["<reminder>parent note 2</reminder>"]

    # usage rolls up: 4 responses of 12 in / 7 out each
    assert (result.usage.input_tokens, result.usage.output_tokens) == (48, 28)
    finished = [e for e in transcript.events if isinstance(e, RunFinished)]
    assert [(e.path, e.stop_reason) for e in finished] == [
        ("t1", "assistant_stop"),
        ("", "assistant_stop"),
    ]
