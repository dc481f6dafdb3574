"""What run_started records about the loop itself, so replay can run it again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.loop import PlannerLoopInput


def loop_settings(inp: PlannerLoopInput) -> dict[str, Any]:
    """The limits, context and policy mode replay needs to run this loop again."""
    ctx = inp.context
    return {
        "max_rounds": inp.max_rounds,
        "max_tool_calls": inp.max_tool_calls,
        "token_budget": inp.token_budget,
        "cost_budget_usd": inp.cost_budget_usd,
        "timeout_s": inp.timeout_s,
        "parallel": inp.is_parallel_safe is not None,
        "policy_mode": inp.policy.mode.value if inp.policy else None,
        "user_id": ctx.user_id,
        "space_id": ctx.space_id,
        "run_id": ctx.run_id,
        "invoker": ctx.invoker,
    }
