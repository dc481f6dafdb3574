"""MCP servers as tool sources: McpToolSource against the gateway, and a mission-like run."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import anyio
import pytest

from gateway import GatewayThread
from planner import (
    PolicyGate,
    PolicyMode,
    RoundDispatch,
    ToolCall,
    ToolContext,
    ToolRegistry,
    ToolResult,
    dispatch_call,
)
from planner.errors import ToolError
from planner.loop import PlannerLoopInput, run_planner_loop
from planner.mcp import McpToolSource, ToolSource, ToolSourceError, mcp_tool_registry
from planner.messages import ModelRequest
from planner.models.scripted import ScriptedModel
from planner.tools import AnyToolSpec, read_tools_are_parallel_safe
from tests.gateway.conftest import side_store, side_vault
from tests.gateway.gw_helpers import KeyRing
from toolkits import default_registry


async def call_tool(
    spec: AnyToolSpec, ctx: ToolContext, gate: PolicyGate | None, arguments: dict[str, Any]
) -> ToolResult:
    """One call through the engine's pipeline, outside a loop."""
    call = ToolCall(id=f"call-{spec.name}", name=spec.name, arguments=arguments)
    return (await dispatch_call(RoundDispatch(ToolRegistry([spec]), ctx, gate), call)).result


async def _append(into: list[Any], call: Awaitable[Any]) -> None:
    into.append(await call)


CTX = ToolContext(user_id="mission-user", space_id="personal", run_id="run-1")


async def test_specs_carry_the_remote_schema_and_hints(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str, mode: str
) -> None:
    async with McpToolSource(enforce_gw.mcp_url, key_ring.token(user), mode=mode) as source:
        assert isinstance(source, ToolSource)
        specs = {s.name: s for s in await source.list_specs()}
    assert specs["todo.list"].policy_hint == "read"
    assert specs["todo.create"].policy_hint == "write"
    assert specs["todo.delete"].policy_hint == "destructive"
    assert specs["todo.delete"].idempotent
    assert specs["todo.create"].scope == "user-space"
    assert "admin.users.list" not in specs
    schema = specs["todo.create"].input_schema
    assert "title" in schema["properties"]
    assert ToolRegistry(specs.values()).to_mcp()  # exports like any local tool


async def test_remote_calls_and_remote_errors(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    async with mcp_tool_registry(enforce_gw.mcp_url, key_ring.token(user)) as tools:
        create = tools.get("todo.create")
        delete = tools.get("todo.delete")
        assert create is not None and delete is not None
        made = await call_tool(create, CTX, None, {"title": "Remote todo"})
        assert made.success and made.data["title"] == "Remote todo"
        listing = tools.get("todo.list")
        assert listing is not None
        together: list[ToolResult] = []
        async with anyio.create_task_group() as tg:  # concurrent calls share one session
            for _ in range(5):
                tg.start_soon(_append, together, call_tool(listing, CTX, None, {}))
        assert len(together) == 5 and all(r.success for r in together)
        invalid = await call_tool(create, CTX, None, {"title": ""})
        assert not invalid.success and "invalid arguments" in invalid.message
        denied = await call_tool(delete, CTX, None, {"todoId": made.data["id"]})
    assert not denied.success
    assert "Tool todo.delete not allowed: destructive-not-allowed" in denied.message
    assert denied.message.startswith(ToolError.__name__)


async def test_prefix_keeps_remote_names_apart(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    url = enforce_gw.mcp_url
    async with mcp_tool_registry(url, key_ring.token(user), prefix="remote") as tools:
        assert "remote.todo.create" in tools
        result = await call_tool(tools.get("remote.todo.list"), CTX, None, {})  # type: ignore[arg-type]
    assert result.success


async def test_a_refused_connection_names_the_status(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    with pytest.raises(ToolSourceError, match="HTTP 401"):
        async with McpToolSource(enforce_gw.mcp_url, "not-a-token"):
            pass
    with pytest.raises(ToolSourceError, match="HTTP 403"):
        async with McpToolSource(enforce_gw.mcp_url, key_ring.token(user), space="team:nope"):
            pass


async def test_calls_after_close_are_tool_errors(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    async with mcp_tool_registry(enforce_gw.mcp_url, key_ring.token(user)) as tools:
        spec = tools.get("todo.list")
    assert spec is not None
    result = await call_tool(spec, CTX, None, {})
    assert not result.success and "not connected" in result.message


def _tool_messages(request: ModelRequest) -> list[str]:
    return [str(m.content) for m in request.messages if m.role == "tool"]


async def test_a_mission_uses_the_gateway_end_to_end(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str, mode: str
) -> None:
    gateway = enforce_gw.gateway
    assert gateway is not None
    calls = gateway.metrics.tool_calls
    before_create = calls.value("todo.create", "ok")
    before_delete = sum(calls.value("todo.delete", o) for o in ("ok", "denied", "error"))
    seen: dict[str, Any] = {}

    def after_create(request: ModelRequest) -> dict[str, Any]:
        seen["round2"] = _tool_messages(request)
        return {
            "tool_calls": [
                {"name": "todo.list", "arguments": {}},
                {"name": "todo.delete", "arguments": {"todoId": "anything"}},
            ]
        }

    model = ScriptedModel(
        [
            {"tool_calls": [{"name": "todo.create", "arguments": {"title": "Buy oat milk"}}]},
            after_create,
            {"text": "Added the errand; deleting needs your opt-in."},
        ]
    )
    local_gate = PolicyGate(mode=PolicyMode.ENFORCE)
    async with mcp_tool_registry(enforce_gw.mcp_url, key_ring.token(user), mode=mode) as tools:
        result = await run_planner_loop(
            PlannerLoopInput(
                model=model,
                system_prompt="You manage to-dos.",
                user_prompt="Add oat milk to my list.",
                tools=tools,
                context=ToolContext(user_id=user, space_id="personal", run_id="mission-1"),
                policy=local_gate,
                is_parallel_safe=read_tools_are_parallel_safe,
                max_rounds=5,
            )
        )
    assert result.stop_reason in ("assistant_stop", "no_tool_calls")
    assert any("Buy oat milk" in m for m in seen["round2"])
    outcomes = [(e.call.name, e.result.success) for e in result.executed_calls]
    assert outcomes == [("todo.create", True), ("todo.list", True), ("todo.delete", False)]
    denial = result.executed_calls[2].result.message
    assert denial.startswith("Tool todo.delete not allowed: destructive-not-allowed")
    # the calls arrived at the gateway and were gated there; the local gate stopped the delete
    assert calls.value("todo.create", "ok") == before_create + 1
    after_delete = sum(calls.value("todo.delete", o) for o in ("ok", "denied", "error"))
    assert after_delete == before_delete
    # the store changed: the to-do is in the user's personal space
    async with side_store(enforce_gw) as store:
        local = default_registry(store, side_vault(enforce_gw))
        listing = await call_tool(
            local.get("todo.list"),  # type: ignore[arg-type]
            ToolContext(user_id=user, space_id="personal"),
            None,
            {},
        )
    assert [t["title"] for t in listing.data["todos"]] == ["Buy oat milk"]
