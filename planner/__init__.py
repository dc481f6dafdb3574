"""mana-planner's engine: the planner loop, tools, policy gate, transcripts and replay."""

from planner.compaction import Compactor, SummarizingCompactor
from planner.diff import DiffReport, diff_transcripts
from planner.dispatch import (
    PARALLEL_TOOL_BATCH_SIZE,
    ExecutedCall,
    RoundDispatch,
    dispatch_call,
)
from planner.errors import ModelError, PlannerError, ToolError
from planner.fork import ForkResult, fork
from planner.functions import tool
from planner.loop import PlannerLoopInput, PlannerLoopResult, run_planner_loop
from planner.messages import Message, ModelRequest, ModelResponse, OutputSchema, ToolCall, Usage
from planner.models.base import TextDelta
from planner.output import import_output_model
from planner.policy import PolicyDecision, PolicyGate, PolicyMode, UserPolicySettings
from planner.resources import shipped_config, shipped_configs
from planner.state import LastCall, LoopState, Reminder, ReminderChannel, StopReason
from planner.stream import (
    EventFeed,
    RoundEnd,
    RunEnd,
    RunEvent,
    RunEvents,
    ToolCallDecided,
    stream_planner_loop,
    with_deltas,
)
from planner.subagents import DEFAULT_SUBAGENTS, SubAgentSpec, with_subagents
from planner.tools import SPACE_HEADER, ToolContext, ToolRegistry, ToolResult, ToolSpec

__all__ = [
    "DEFAULT_SUBAGENTS",
    "PARALLEL_TOOL_BATCH_SIZE",
    "SPACE_HEADER",
    "Compactor",
    "DiffReport",
    "EventFeed",
    "ExecutedCall",
    "ForkResult",
    "LastCall",
    "LoopState",
    "Message",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "OutputSchema",
    "PlannerError",
    "PlannerLoopInput",
    "PlannerLoopResult",
    "PolicyDecision",
    "PolicyGate",
    "PolicyMode",
    "Reminder",
    "ReminderChannel",
    "RoundDispatch",
    "RoundEnd",
    "RunEnd",
    "RunEvent",
    "RunEvents",
    "StopReason",
    "SubAgentSpec",
    "SummarizingCompactor",
    "TextDelta",
    "ToolCall",
    "ToolCallDecided",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "UserPolicySettings",
    "diff_transcripts",
    "dispatch_call",
    "fork",
    "import_output_model",
    "run_planner_loop",
    "shipped_config",
    "shipped_configs",
    "stream_planner_loop",
    "tool",
    "with_deltas",
    "with_subagents",
]
