"""Structured output for Anthropic: a forced final-answer tool whose input is the answer.

The Messages API has no JSON-schema response format, so a request with an output model offers
one more tool, `final_result`, with the model's schema as its input schema, and makes the
model call a tool (`any`; that one tool when it is the only one). The adapter reads that
call's input back as the answer's text, so the loop validates it like any other answer.
"""

from __future__ import annotations

from typing import Any

from planner.messages import ModelRequest, OutputSchema
from planner.models.common import arguments_json, parse_arguments
from planner.tools import to_wire_name

OUTPUT_TOOL = "final_result"
Block = dict[str, Any]


def output_tool_name(request: ModelRequest) -> str | None:
    """The wire name of the final-answer tool when the request asks for an output model
    (`final_result`, made unique against the offered tools)."""
    if request.output is None:
        return None
    taken = {to_wire_name(t.name) for t in request.tools}
    name = OUTPUT_TOOL
    while name in taken:
        name += "_"
    return name


def output_tool(output: OutputSchema, name: str) -> Block:
    """The final-answer tool: its input schema is the output model's."""
    about = f" ({output.description})" if output.description else ""
    return {
        "name": name,
        "description": f"Give your final answer as {output.name}{about}. Call it once, last.",
        "input_schema": output.json_schema,
    }


def output_choice(request: ModelRequest, name: str) -> Block:
    """`tool_choice` of a request with an output model: some tool must be called."""
    return {"type": "any"} if request.tools else {"type": "tool", "name": name}


def final_answer(content: list[Block], name: str | None) -> str | None:
    """The input of the final-answer tool's call as JSON text (its raw text when that is not
    a JSON object), or None when the answer holds no such call."""
    for block in content:
        if name is not None and block.get("type") == "tool_use" and block.get("name") == name:
            raw = block.get("input")
            parsed, error = parse_arguments(raw)
            return str(raw) if error is not None else arguments_json(parsed)
    return None
