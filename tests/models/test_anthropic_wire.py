"""What the Anthropic adapter puts on the wire: turns, reminders, cache breakpoints, pause_turn."""

from __future__ import annotations

import json
from typing import Any

import pytest

from planner.messages import Message
from planner.models.anthropic import anthropic_params
from planner.testing import FakeCall, FakeLLMServer, Reply
from tests.models.conftest import MakeModel
from tests.models.helpers import (
    HISTORY_1,
    HISTORY_2,
    ROUND_1_ANSWER,
    SYSTEM,
    USER,
    capture_retries,
    request,
)


def cache_marked(body: dict[str, Any]) -> list[str]:
    """Where cache_control sits: tools[i], system[i], messages[i].content[j]."""
    found = [f"tools[{i}]" for i, t in enumerate(body.get("tools", [])) if "cache_control" in t]
    found += [f"system[{i}]" for i, b in enumerate(body.get("system", [])) if "cache_control" in b]
    for i, turn in enumerate(body["messages"]):
        found += [
            f"messages[{i}].content[{j}]"
            for j, block in enumerate(turn["content"])
            if "cache_control" in block
        ]
    return found


def without_cache_control(value: Any) -> Any:
    """A copy of a body part with every cache_control key removed."""
    if isinstance(value, dict):
        return {k: without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [without_cache_control(v) for v in value]
    return value


async def test_round_two_request_layout(llm_server: FakeLLMServer, make_model: MakeModel) -> None:
    llm_server.push(Reply(text="done"))
    await make_model("anthropic").complete(request(HISTORY_2, ("3 todos are open",), round=2))
    body = llm_server.requests[0].body
    assert body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    assert [t["role"] for t in body["messages"]] == ["user", "assistant", "user"]
    assistant, results = body["messages"][1]["content"], body["messages"][2]["content"]
    assert assistant == [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "c1", "name": "todo__list", "input": {}},
        {"type": "tool_use", "id": "c2", "name": "todo__create", "input": {"title": "a"}},
        {"type": "tool_use", "id": "c3", "name": "todo__create", "input": {"title": "b"}},
    ]
    # One user turn: the round's tool results in source order, then this round's reminder.
    assert [b["type"] for b in results] == ["tool_result"] * 3 + ["text"]
    assert [b["tool_use_id"] for b in results[:3]] == ["c1", "c2", "c3"]
    assert [b.get("is_error", False) for b in results[:3]] == [False, True, False]
    assert json.loads(results[1]["content"]) == {
        "success": False,
        "message": "title already exists",
    }
    assert results[3]["text"] == "<reminder>3 todos are open</reminder>"


async def test_cache_breakpoints_sit_on_stored_content(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="done"))
    await make_model("anthropic").complete(request(HISTORY_2, ("r1", "r2"), round=2))
    body = llm_server.requests[0].body
    # Last tool, the system block, the last stored block (tool result c3), never a reminder.
    assert cache_marked(body) == ["tools[1]", "system[0]", "messages[2].content[2]"]
    last_turn = body["messages"][-1]["content"]
    assert last_turn[2]["tool_use_id"] == "c3"
    assert [b["text"] for b in last_turn[3:]] == [
        "<reminder>r1</reminder>",
        "<reminder>r2</reminder>",
    ]
    assert all("cache_control" not in b for b in last_turn[3:])


async def test_first_round_reminder_follows_the_user_text(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="done"))
    await make_model("anthropic").complete(request(HISTORY_1, ("be brief",)))
    (turn,) = llm_server.requests[0].body["messages"]
    assert turn["content"] == [
        {"type": "text", "text": "Plan my day.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "<reminder>be brief</reminder>"},
    ]


async def test_reminders_are_sent_in_their_round_only_and_the_prefix_is_stable(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="one"), Reply(text="two"))
    model = make_model("anthropic")
    await model.complete(request(HISTORY_1, ("first reminder",), round=1))
    await model.complete(request(HISTORY_2, ("second reminder",), round=2))
    first, second = (json.dumps(r.body) for r in llm_server.requests)
    assert "first reminder" in first and "second reminder" not in first
    assert "second reminder" in second and "first reminder" not in second
    body1, body2 = (r.body for r in llm_server.requests)
    stored1 = [{**t, "content": t["content"][:-1]} for t in body1["messages"]]
    assert without_cache_control(body2["messages"][: len(stored1)]) == without_cache_control(
        stored1
    )
    assert without_cache_control(body1["tools"]) == without_cache_control(body2["tools"])


async def test_prompt_caching_off_sends_no_breakpoints(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="done"))
    await make_model("anthropic", prompt_caching=False).complete(request(HISTORY_2, ("r",)))
    assert cache_marked(llm_server.requests[0].body) == []


async def test_pause_turn_is_continued_inside_the_adapter(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply(text="Searching", stop="pause_turn", input_tokens=10, output_tokens=3),
        Reply(
            text=" done.",
            tool_calls=[FakeCall("todo__create", {"title": "z"}, id="p1")],
            input_tokens=20,
            output_tokens=4,
        ),
    )
    response = await make_model("anthropic").complete(request(HISTORY_1, ("r",)))
    assert response.text == "Searching done."
    assert [c.id for c in response.tool_calls] == ["p1"]
    assert response.stop_reason == "tool_use"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (30, 7)
    first, second = (r.body for r in llm_server.requests)
    assert second["messages"][:-1] == first["messages"]
    assert second["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Searching"}],
    }


async def test_pause_turn_continuations_are_capped(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(*[Reply(text=".", stop="pause_turn")] * 3)
    response = await make_model("anthropic", max_continuations=2).complete(request())
    assert response.stop_reason == "pause_turn"
    assert response.text == "..."
    first, _, third = (r.body["messages"] for r in llm_server.requests)
    assert third[:-1] == first
    assert third[-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "."}, {"type": "text", "text": "."}],
    }


async def test_overloaded_error_event_mid_stream_is_retried(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(stream_error="overloaded_error", error_message="busy"), Reply(text="ok"))
    with capture_retries() as retries:
        response = await make_model("anthropic", stream=True).complete(request())
    assert response.text == "ok"
    assert len(retries) == 1
    assert retries[0].status is None
    assert "overloaded_error" in retries[0].error


async def test_tool_input_cut_off_by_max_tokens_is_an_arguments_error(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply(tool_calls=[FakeCall("todo__create", '{"title": "Buy mi')], stop="max_tokens")
    )
    response = await make_model("anthropic", stream=True).complete(request())
    assert response.stop_reason == "max_tokens"
    (call,) = response.tool_calls
    assert call.arguments == {}
    assert (call.arguments_error or "").startswith("arguments are not valid JSON")


async def test_headers_model_and_temperature(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="ok"))
    await make_model("anthropic", temperature=0.2, max_tokens=123).complete(request())
    recorded = llm_server.requests[0]
    # This SDK sends the key as a bearer token; older ones used x-api-key.
    auth = recorded.headers.get("x-api-key") or recorded.headers["authorization"]
    assert auth.endswith("test-key")
    assert "anthropic-version" in recorded.headers
    assert recorded.body["model"] == "claude-test"
    assert recorded.body["max_tokens"] == 123
    assert recorded.body["temperature"] == 0.2


def test_params_without_system_prompt_or_tools() -> None:
    from planner.messages import ModelRequest

    params = anthropic_params(
        ModelRequest(system_prompt="", messages=(USER,)), model="m", max_tokens=10
    )
    assert "system" not in params and "tools" not in params
    assert params["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Plan my day.", "cache_control": {"type": "ephemeral"}}
            ],
        }
    ]


def test_reminder_after_an_assistant_turn_opens_a_user_turn() -> None:
    from planner.messages import ModelRequest, reminder_message

    req = ModelRequest(
        system_prompt="s",
        messages=(USER, Message(role="assistant", content="hi"), reminder_message("nudge")),
    )
    turns = anthropic_params(req, model="m", max_tokens=10)["messages"]
    assert turns[-1] == {
        "role": "user",
        "content": [{"type": "text", "text": "<reminder>nudge</reminder>"}],
    }


@pytest.mark.parametrize("stream", [False, True])
async def test_history_arguments_error_call_is_replayed_with_empty_input(
    stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    from planner.messages import ToolCall

    bad = ToolCall(id="x", name="todo.create", arguments={}, arguments_error="not JSON")
    history = (
        USER,
        ROUND_1_ANSWER.model_copy(update={"tool_calls": (bad,)}),
        Message(role="tool", tool_call_id="x", name="todo.create", content="{}", is_error=True),
    )
    llm_server.push(Reply(text="ok"))
    await make_model("anthropic", stream=stream).complete(request(history))
    tool_use = llm_server.requests[0].body["messages"][1]["content"][1]
    assert tool_use == {"type": "tool_use", "id": "x", "name": "todo__create", "input": {}}
