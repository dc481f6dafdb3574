"""mana-planner's engine: the planner loop, tools, policy gate, transcripts and replay."""

from planner.compaction import Compactor, SummarizingCompactor
from planner.dispatch import (
    PARALLEL_TOOL_BATCH_SIZE,
    ExecutedCall,
    RoundDispatch,
    dispatch_call,
)
from planner.errors import ModelError, PlannerError, ToolError
from planner.loop import PlannerLoopInput, PlannerLoopResult, run_planner_loop
from planner.messages import Message, ModelRequest, ModelResponse, ToolCall, Usage
from planner.policy import PolicyDecision, PolicyGate, PolicyMode, UserPolicySettings
from planner.state import LastCall, LoopState, Reminder, ReminderChannel, StopReason
from planner.subagents import DEFAULT_SUBAGENTS, SubAgentSpec, with_subagents
from planner.tools import ToolContext, ToolRegistry, ToolResult, ToolSpec

__all__ = [
    "DEFAULT_SUBAGENTS",
    "PARALLEL_TOOL_BATCH_SIZE",
    "Compactor",
    "ExecutedCall",
    "LastCall",
    "LoopState",
    "Message",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "PlannerError",
    "PlannerLoopInput",
    "PlannerLoopResult",
    "PolicyDecision",
    "PolicyGate",
    "PolicyMode",
    "Reminder",
    "ReminderChannel",
    "RoundDispatch",
    "StopReason",
    "SubAgentSpec",
    "SummarizingCompactor",
    "ToolCall",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "UserPolicySettings",
    "dispatch_call",
    "run_planner_loop",
    "with_subagents",
]
