"""Structured output on the fake server: a `Reply(output=...)` is answered only when the request
carries the provider's native structured-output parameters, and in the provider's shape."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from planner.testing.replies import FakeCall, Reply

ANTHROPIC_OUTPUT_TOOL = "final_result"


def _schema_problem(where: str, body: Any) -> str | None:
    if not isinstance(body, dict) or body.get("type") != "json_schema":
        return f"{where} is not a json_schema format"
    if not isinstance(body.get("name"), str) or not isinstance(body.get("schema"), dict):
        return f"{where} has no name and schema"
    return None


def anthropic_output_tool(body: dict[str, Any]) -> str | None:
    """The final-answer tool a Messages request forces, or None when it forces none."""
    names = [t.get("name", "") for t in body.get("tools", [])]
    finals = [n for n in names if n.startswith(ANTHROPIC_OUTPUT_TOOL)]
    choice = body.get("tool_choice") or {}
    if not finals or choice.get("type") not in ("any", "tool"):
        return None
    if choice.get("type") == "tool" and choice.get("name") not in finals:
        return None
    return str(finals[-1])


def structured_problem(api: str, body: dict[str, Any]) -> str | None:
    """Why `body` does not ask for structured output natively, or None when it does."""
    if api == "chat":
        fmt = body.get("response_format") or {}
        if fmt.get("type") != "json_schema":
            return "the request carries no json_schema response_format"
        return _schema_problem(
            "response_format.json_schema", {"type": "json_schema", **fmt.get("json_schema", {})}
        )
    if api == "responses":
        return _schema_problem("text.format", (body.get("text") or {}).get("format"))
    if anthropic_output_tool(body) is None:
        return "the request forces no final_result tool (tools + tool_choice any/tool)"
    return None


def structured_reply(api: str, reply: Reply, body: dict[str, Any]) -> Reply:
    """`reply` with its output as the answer: JSON text, or the final-answer tool's call."""
    if api == "anthropic":
        name = anthropic_output_tool(body) or ANTHROPIC_OUTPUT_TOOL
        output = reply.output if isinstance(reply.output, dict | str) else {}
        call = FakeCall(name, output, id=reply.output_call_id)
        return dataclasses.replace(reply, tool_calls=[*reply.tool_calls, call], stop="tool_use")
    text = reply.output if isinstance(reply.output, str) else json.dumps(reply.output)
    return dataclasses.replace(reply, text=text)
