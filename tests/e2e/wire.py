"""Builders and wire readers shared by the end-to-end tests.

Each reader takes the API kind (`anthropic`, `chat`, `responses`) and one recorded JSON
request body, and returns the same provider-neutral view, so a test asserts once for all three.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

REMINDER = "<reminder>"

COMBOS = pytest.mark.parametrize(
    ("kind", "stream"),
    [(k, s) for k in ("anthropic", "chat", "responses") for s in (False, True)],
    ids=lambda v: v if isinstance(v, str) else ("sse" if v else "json"),
)


@dataclass(frozen=True)
class WireResult:
    """One tool result as a request carries it."""

    call_id: str
    body: dict[str, Any]
    """The tool message's JSON: success, message, data."""
    is_error: bool | None
    """Anthropic's is_error flag (False when absent); None for the OpenAI APIs, which have none."""


def history(kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation list of a request: messages, or the Responses `input` items."""
    return list(body["input"] if kind == "responses" else body["messages"])


def tool_results(kind: str, body: dict[str, Any]) -> list[WireResult]:
    """The tool results after the last assistant turn, in wire order."""
    if kind == "anthropic":
        last = body["messages"][-1]
        assert last["role"] == "user"
        return [
            WireResult(b["tool_use_id"], json.loads(b["content"]), bool(b.get("is_error", False)))
            for b in last["content"]
            if b["type"] == "tool_result"
        ]
    items = history(kind, body)
    if kind == "chat":
        start = max(i for i, m in enumerate(items) if m["role"] == "assistant") + 1
        return [
            WireResult(m["tool_call_id"], json.loads(m["content"]), None)
            for m in items[start:]
            if m["role"] == "tool"
        ]
    start = max(i for i, m in enumerate(items) if m.get("type") == "function_call") + 1
    return [
        WireResult(m["call_id"], json.loads(m["output"]), None)
        for m in items[start:]
        if m.get("type") == "function_call_output"
    ]


def system_text(kind: str, body: dict[str, Any]) -> str:
    """The system prompt a request carries."""
    if kind == "anthropic":
        return "".join(b["text"] for b in body.get("system", []))
    first = history(kind, body)[0]
    assert first["role"] == ("system" if kind == "chat" else "developer")
    return str(first["content"])


def user_texts(kind: str, body: dict[str, Any]) -> list[str]:
    """Every plain user text in a request (no tool results, no reminders)."""
    texts: list[str] = []
    for m in history(kind, body):
        if m.get("role") != "user":
            continue
        if isinstance(m["content"], str):
            texts.append(m["content"])
            continue
        texts += [
            b["text"] for b in m["content"] if b["type"] == "text" and REMINDER not in b["text"]
        ]
    return texts


def strings(value: Any) -> list[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def reminders_anywhere(body: dict[str, Any]) -> list[str]:
    """Every string in the whole body that holds a reminder."""
    return [s for s in strings(body) if REMINDER in s]


def without_cache_control(value: Any) -> Any:
    """A copy with Anthropic's cache_control markers removed (the breakpoint moves each round)."""
    if isinstance(value, dict):
        return {k: without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [without_cache_control(v) for v in value]
    return value


def stored_prefix(kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The message list minus this request's reminders: what must stay byte-stable."""
    if kind != "anthropic":
        return [m for m in history(kind, body) if REMINDER not in str(m.get("content", ""))]
    turns = []
    for turn in without_cache_control(body["messages"]):
        blocks = [b for b in turn["content"] if not (b["type"] == "text" and REMINDER in b["text"])]
        if blocks:
            turns.append({**turn, "content": blocks})
    return turns


def canonical(items: list[dict[str, Any]]) -> list[str]:
    """Each item as stable JSON text."""
    return [json.dumps(i, sort_keys=True, separators=(",", ":")) for i in items]
