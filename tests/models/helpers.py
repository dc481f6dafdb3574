"""Requests and wire-reading helpers shared by the adapter tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from planner.messages import (
    Message,
    ModelRequest,
    ToolCall,
    ToolSchema,
    reminder_message,
    tool_result_content,
)
from planner.models.base import RETRY_SINK, RetryInfo

SYSTEM = "You plan the user's day."
TOOLS = (
    ToolSchema(
        name="todo.create",
        description="Create a todo.",
        input_schema={
            "type": "object",
            "properties": {"title": {"type": "string"}},
            "required": ["title"],
        },
    ),
    ToolSchema(
        name="todo.list",
        description="List todos.",
        input_schema={"type": "object", "properties": {}},
    ),
)
USER = Message(role="user", content="Plan my day.")
ROUND_1_CALLS = (
    ToolCall(id="c1", name="todo.list", arguments={}),
    ToolCall(id="c2", name="todo.create", arguments={"title": "a"}),
    ToolCall(id="c3", name="todo.create", arguments={"title": "b"}),
)
ROUND_1_ANSWER = Message(role="assistant", content="Let me look.", tool_calls=ROUND_1_CALLS)
ROUND_1_RESULTS = (
    Message(
        role="tool",
        tool_call_id="c1",
        name="todo.list",
        content=tool_result_content(True, "2 todos", [{"title": "x"}, {"title": "y"}]),
    ),
    Message(
        role="tool",
        tool_call_id="c2",
        name="todo.create",
        content=tool_result_content(False, "title already exists"),
        is_error=True,
    ),
    Message(
        role="tool",
        tool_call_id="c3",
        name="todo.create",
        content=tool_result_content(True, "created", {"id": 7}),
    ),
)
HISTORY_1 = (USER,)
HISTORY_2 = (USER, ROUND_1_ANSWER, *ROUND_1_RESULTS)


def request(
    history: tuple[Message, ...] = HISTORY_1, reminders: tuple[str, ...] = (), round: int = 1
) -> ModelRequest:
    """A request with the test tools and system prompt, reminders after the history."""
    return ModelRequest(
        system_prompt=SYSTEM,
        messages=(*history, *(reminder_message(r) for r in reminders)),
        tools=TOOLS,
        round=round,
    )


@contextmanager
def capture_retries() -> Iterator[list[RetryInfo]]:
    """Collect the RetryInfo of every retry made inside the block."""
    infos: list[RetryInfo] = []
    token = RETRY_SINK.set(infos.append)
    try:
        yield infos
    finally:
        RETRY_SINK.reset(token)


def wire_tool_names(kind: str, body: dict[str, Any]) -> list[str]:
    """The tool names a request body declares."""
    if kind == "chat":
        return [t["function"]["name"] for t in body.get("tools", [])]
    return [t["name"] for t in body.get("tools", [])]


def wire_history_call_names(kind: str, body: dict[str, Any]) -> list[str]:
    """The tool names of the assistant tool calls replayed in a request's history."""
    if kind == "anthropic":
        return [
            b["name"]
            for turn in body["messages"]
            if turn["role"] == "assistant"
            for b in turn["content"]
            if b["type"] == "tool_use"
        ]
    if kind == "chat":
        return [
            c["function"]["name"]
            for m in body["messages"]
            if m["role"] == "assistant"
            for c in m.get("tool_calls") or []
        ]
    return [i["name"] for i in body["input"] if i.get("type") == "function_call"]
