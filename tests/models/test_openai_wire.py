"""What the OpenAI adapters (Chat Completions, Responses) put on the wire."""

from __future__ import annotations

import json

import pytest

from planner.models import OpenAIChatModel
from planner.testing import FakeLLMServer, Reply
from tests.models.conftest import MakeModel
from tests.models.helpers import HISTORY_1, HISTORY_2, SYSTEM, request


async def test_chat_round_two_layout(llm_server: FakeLLMServer, make_model: MakeModel) -> None:
    llm_server.push(Reply(text="done"))
    await make_model("chat").complete(request(HISTORY_2, ("r1", "r2"), round=2))
    messages = llm_server.requests[0].body["messages"]
    assert messages[0] == {"role": "system", "content": SYSTEM}
    assert messages[1] == {"role": "user", "content": "Plan my day."}
    assert messages[2]["role"] == "assistant"
    assert messages[2]["content"] == "Let me look."
    assert messages[2]["tool_calls"][1] == {
        "id": "c2",
        "type": "function",
        "function": {"name": "todo__create", "arguments": '{"title":"a"}'},
    }
    assert [(m["role"], m.get("tool_call_id")) for m in messages[3:6]] == [
        ("tool", "c1"),
        ("tool", "c2"),
        ("tool", "c3"),
    ]
    assert json.loads(messages[4]["content"])["success"] is False
    # Reminders come after the whole history, as system messages.
    assert messages[6:] == [
        {"role": "system", "content": "<reminder>r1</reminder>"},
        {"role": "system", "content": "<reminder>r2</reminder>"},
    ]


async def test_responses_round_two_layout(llm_server: FakeLLMServer, make_model: MakeModel) -> None:
    llm_server.push(Reply(text="done"))
    await make_model("responses").complete(request(HISTORY_2, ("r1",), round=2))
    body = llm_server.requests[0].body
    assert body["store"] is False
    items = body["input"]
    assert items[0] == {"type": "message", "role": "developer", "content": SYSTEM}
    assert items[1] == {"type": "message", "role": "user", "content": "Plan my day."}
    assert items[2] == {"type": "message", "role": "assistant", "content": "Let me look."}
    assert items[3:6] == [
        {"type": "function_call", "call_id": "c1", "name": "todo__list", "arguments": "{}"},
        {
            "type": "function_call",
            "call_id": "c2",
            "name": "todo__create",
            "arguments": '{"title":"a"}',
        },
        {
            "type": "function_call",
            "call_id": "c3",
            "name": "todo__create",
            "arguments": '{"title":"b"}',
        },
    ]
    assert [(i["type"], i["call_id"]) for i in items[6:9]] == [
        ("function_call_output", "c1"),
        ("function_call_output", "c2"),
        ("function_call_output", "c3"),
    ]
    assert items[9:] == [
        {"type": "message", "role": "developer", "content": "<reminder>r1</reminder>"}
    ]
    assert [t["name"] for t in body["tools"]] == ["todo__create", "todo__list"]


@pytest.mark.parametrize("kind", ["chat", "responses"])
async def test_reminders_only_in_their_round_and_prefix_is_stable(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="one"), Reply(text="two"))
    model = make_model(kind)
    await model.complete(request(HISTORY_1, ("first reminder",), round=1))
    await model.complete(request(HISTORY_2, ("second reminder",), round=2))
    key = "messages" if kind == "chat" else "input"
    first, second = (r.body[key] for r in llm_server.requests)
    assert "first reminder" in json.dumps(first) and "second reminder" not in json.dumps(first)
    assert "second reminder" in json.dumps(second) and "first reminder" not in json.dumps(second)
    stored = first[:-1]
    assert second[: len(stored)] == stored
    assert second[-1]["content"] == "<reminder>second reminder</reminder>"


async def test_chat_streaming_asks_for_usage(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="ok"))
    await make_model("chat", stream=True).complete(request())
    body = llm_server.requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_chat_options_developer_role_max_tokens_and_temperature(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="ok"))
    model = make_model(
        "chat",
        system_role="developer",
        max_tokens=77,
        max_tokens_param="max_tokens",
        temperature=0.0,
    )
    await model.complete(request(HISTORY_1, ("r",)))
    recorded = llm_server.requests[0]
    assert recorded.headers["authorization"] == "Bearer test-key"
    assert recorded.body["max_tokens"] == 77
    assert "max_completion_tokens" not in recorded.body
    assert recorded.body["temperature"] == 0.0
    roles = [m["role"] for m in recorded.body["messages"]]
    assert roles == ["developer", "user", "developer"]


async def test_local_server_needs_no_key(
    llm_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    llm_server.push(Reply(text="local"))
    model = OpenAIChatModel("llama3.2")
    try:
        response = await model.complete(request())
    finally:
        await model.aclose()
    assert response.text == "local"
    assert llm_server.requests[0].body["model"] == "llama3.2"
