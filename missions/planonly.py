"""Plan-only missions: reads run, writes become proposals a person approves or rejects."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from missions.config import MissionConfig, load_mission
from missions.errors import MissionConfigError
from missions.policy import policy_gate
from missions.store import Proposal, ProposalStateError, SqlRunStore
from missions.toolmodules import with_provided_tools
from planner import (
    AnyToolSpec,
    PolicyGate,
    PolicyMode,
    RoundDispatch,
    ToolCall,
    ToolContext,
    ToolRegistry,
    ToolResult,
    dispatch_call,
)


def plan_only(
    registry: ToolRegistry, store: SqlRunStore, mission_id: str, mission_path: str | None
) -> ToolRegistry:
    """The same tools, with every write or destructive handler replaced by a proposal."""

    def propose(spec: AnyToolSpec) -> AnyToolSpec:
        async def record(ctx: ToolContext, inp: BaseModel) -> ToolResult:
            proposal = await store.add_proposal(
                run_id=ctx.run_id,
                mission_id=mission_id,
                mission_path=mission_path,
                user_id=ctx.user_id,
                space_id=ctx.space_id,
                tool=spec.name,
                arguments=inp.model_dump(mode="json", exclude_unset=True),
            )
            return ToolResult(True, f"recorded - pending approval (proposal {proposal.id})")

        return replace(spec, handler=record)

    return ToolRegistry(s if s.policy_hint == "read" else propose(s) for s in registry)


async def approve(store: SqlRunStore, proposal_id: str, registry: ToolRegistry) -> Proposal:
    """Run a pending proposal's tool, as its user and space, through the gate in enforce mode."""
    proposal = await store.claim(proposal_id, "approved")
    cfg = _mission(proposal)
    registry = _with_own_tools(registry, cfg, proposal)
    if proposal.tool not in registry:
        result = ToolResult(False, f"tool {proposal.tool} no longer exists")
    else:
        gate = policy_gate(cfg, PolicyMode.ENFORCE) if cfg else PolicyGate(mode=PolicyMode.ENFORCE)
        ctx = ToolContext(proposal.user_id, proposal.space_id, proposal.run_id)
        call = ToolCall(id=proposal.id, name=proposal.tool, arguments=proposal.arguments)
        executed = await dispatch_call(RoundDispatch(registry, ctx, gate), call)
        result = executed.result
    body: dict[str, Any] = {"success": result.success, "message": result.message}
    if result.data is not None:
        body["data"] = result.data
    await store.set_result(proposal.id, "approved" if result.success else "failed", body)
    return await store.get_proposal(proposal.id)


async def reject(store: SqlRunStore, proposal_id: str) -> Proposal:
    """Reject a pending proposal; nothing runs."""
    return await store.claim(proposal_id, "rejected")


def _with_own_tools(
    registry: ToolRegistry, cfg: MissionConfig | None, proposal: Proposal
) -> ToolRegistry:
    """`registry` plus the mission's own tools (`tool_modules`, entry points), if they load."""
    if cfg is None or not (cfg.tool_modules or cfg.tool_entry_points):
        return registry
    path = Path(proposal.mission_path) if proposal.mission_path else None
    try:
        return with_provided_tools(registry, cfg, path)
    except MissionConfigError:
        return registry


def _mission(proposal: Proposal) -> MissionConfig | None:
    if not proposal.mission_path:
        return None
    try:
        return load_mission(proposal.mission_path)
    except Exception:
        return None


__all__ = ["ProposalStateError", "approve", "plan_only", "reject"]
