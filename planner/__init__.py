"""mana-planner's engine: the planner loop, tools, policy gate, transcripts and replay."""

from planner.compaction import Compactor, SummarizingCompactor
from planner.dispatch import PARALLEL_TOOL_BATCH_SIZE, ExecutedCall
from planner.errors import ModelError, PlannerError, ToolError
from planner.functions import tool
from planner.loop import PlannerLoopInput, PlannerLoopResult, run_planner_loop
from planner.messages import Message, ModelRequest, ModelResponse, ToolCall, Usage
from planner.policy import PolicyDecision, PolicyGate, PolicyMode, UserPolicySettings
from planner.resources import shipped_config, shipped_configs
from planner.state import LastCall, LoopState, Reminder, ReminderChannel, StopReason
from planner.tools import ToolContext, ToolRegistry, ToolResult, ToolSpec

__all__ = [
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
    "StopReason",
    "SummarizingCompactor",
    "ToolCall",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "UserPolicySettings",
    "run_planner_loop",
    "shipped_config",
    "shipped_configs",
    "tool",
]
