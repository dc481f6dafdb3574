"""Tool calls a model wrote as text (`tool_calls_from_text`): small local models often answer
`{"name": "todo__list", "arguments": {...}}`, bare or in a ```json fence, instead of calling.

Read only when the whole answer is that one object, its name is an offered tool (wire or
dotted name) and its arguments are a JSON object; anything else stays text. The call is marked
`from_text` so the transcript shows where it came from.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from planner.messages import ResponseStop, ToolCall, ToolSchema
from planner.tools import from_wire_name

FENCE = re.compile(r"^```(?:json)?\s*\n?(?P<body>.*?)\n?\s*```$", re.DOTALL)
ARGUMENT_KEYS = ("arguments", "parameters")


def call_from_text(text: str, offered: tuple[ToolSchema, ...]) -> ToolCall | None:
    """The tool call `text` spells out, or None when it is not exactly one valid call."""
    body = text.strip()
    fenced = FENCE.match(body)
    if fenced is not None:
        body = fenced.group("body").strip()
    if not body.startswith("{"):
        return None
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    name = from_wire_name(value["name"])
    if name not in {t.name for t in offered}:
        return None
    arguments = _arguments(value)
    if arguments is None:
        return None
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    return ToolCall(id=f"text_{digest}", name=name, arguments=arguments, from_text=True)


def _arguments(value: dict[str, Any]) -> dict[str, Any] | None:
    """The call's arguments: an object, or a string holding one; None when neither."""
    raw: Any = next((value[k] for k in ARGUMENT_KEYS if k in value), {})
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError):
            return None
    return raw if isinstance(raw, dict) else None


def with_text_calls(
    parts: tuple[str, tuple[ToolCall, ...], ResponseStop], offered: tuple[ToolSchema, ...]
) -> tuple[str, tuple[ToolCall, ...], ResponseStop]:
    """Response parts with a written-out tool call turned into a real one (when there is one)."""
    text, calls, _stop = parts
    if calls or not text or not offered:
        return parts
    call = call_from_text(text, offered)
    if call is None:
        return parts
    return "", (call,), "tool_use"
