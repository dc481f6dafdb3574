"""What a run of the planner loop is given and what it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel

from planner.compaction import Compactor
from planner.dispatch import ExecutedCall, ParallelSafe
from planner.messages import Message, Usage
from planner.models.base import Model
from planner.policy import PolicyGate
from planner.state import ReminderChannel, StopReason
from planner.tools import ToolContext, ToolRegistry
from planner.transcript import Transcript


@dataclass(frozen=True)
class PlannerLoopInput:
    """Everything one run needs; the registry is already filtered to what it may see."""

    model: Model
    system_prompt: str
    user_prompt: str
    tools: ToolRegistry
    context: ToolContext
    prior_messages: Sequence[Message] = ()
    policy: PolicyGate | None = None
    reminder_channel: ReminderChannel | None = None
    is_parallel_safe: ParallelSafe | None = None
    max_rounds: int = 5
    max_tool_calls: int | None = None
    token_budget: int | None = None
    cost_budget_usd: float | None = None
    timeout_s: float | None = None
    transcript: Transcript | None = None
    compactor: Compactor | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    """Free-form run settings recorded in the transcript (mission, reminders, mode)."""
    transcript_path: str = ""
    """Prefix for nested runs' events (sub-agents); empty for a top-level run."""
    cancel_scope: anyio.CancelScope | None = None
    """Cancel this scope (from any task) to end the run with `cancelled` and a result."""
    output_model: type[BaseModel] | None = None
    """Validate the final answer into this model (see planner.output); None: a text answer."""


@dataclass(frozen=True)
class PlannerLoopResult:
    """How a run went: its rounds, calls, answer, stop reason, history and usage."""

    rounds: int
    executed_calls: list[ExecutedCall]
    summary: str
    stop_reason: StopReason
    messages: list[Message]
    usage: Usage
    reminder_counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    output: Any = None
    """The validated output model instance, when the run asked for one and got it."""
