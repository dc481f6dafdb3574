"""The registry's specs and results in MCP's shapes: tool definitions, call results, `_meta`."""

from __future__ import annotations

import json
from typing import Any

import mcp.types as types

from planner import AnyToolSpec, PolicyDecision, ToolResult, mcp_annotations

POLICY_META_KEY = "dev.mana-planner/policy"
"""`_meta` key of a call result that carries a non-allow policy verdict (flagged, would-deny)."""


def mcp_tool(spec: AnyToolSpec) -> types.Tool:
    """An MCP tool definition: the dotted name, the input schema and the spec's hints."""
    hints = mcp_annotations(spec)
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=spec.input_schema,
        annotations=types.ToolAnnotations(
            read_only_hint=hints["readOnlyHint"],
            destructive_hint=hints["destructiveHint"],
            idempotent_hint=hints["idempotentHint"],
        ),
    )


def mcp_result(result: ToolResult, meta: dict[str, Any] | None = None) -> types.CallToolResult:
    """A ToolResult as MCP content: the JSON envelope (errors: their message) + structured."""
    envelope = {"success": result.success, "message": result.message, "data": result.data}
    text = (
        json.dumps(envelope, ensure_ascii=False, default=str) if result.success else result.message
    )
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=envelope,
        is_error=not result.success,
        meta=meta,
    )


def policy_meta(decision: PolicyDecision | None) -> dict[str, Any] | None:
    """The `_meta` entry that tells a client about a flagged or would-deny verdict."""
    if decision is None or decision.verdict == "allow":
        return None
    return {
        POLICY_META_KEY: {
            "verdict": decision.verdict,
            "reason": decision.reason,
            "flagged": decision.flagged,
            "reminder": decision.reminder,
            "mode": decision.mode.value,
        }
    }


def reason_label(decision: PolicyDecision) -> str:
    """The metrics label of a decision's reason."""
    if decision.reason:
        return decision.reason
    return "injection-marker" if decision.flagged else "none"
