"""mana-planner's engine: the planner loop, tools, policy gate, transcripts and replay.

Other packages and users import from here; `planner.testing` is the one public subpackage
(test helpers and a pytest plugin). The MCP client, the provider SDK adapters, streaming, fork and
diff are imported on first use, so `import planner` stays light.
"""

from typing import TYPE_CHECKING

from planner.compaction import Compactor, SummarizingCompactor
from planner.dispatch import (
    PARALLEL_TOOL_BATCH_SIZE,
    ExecutedCall,
    RoundDispatch,
    dispatch_call,
    error_result,
    execute,
)
from planner.errors import (
    ConfigError,
    ForkError,
    MissingApiKeyError,
    ModelError,
    ModelOptionError,
    OutputModelError,
    PlannerError,
    ScriptExhaustedError,
    ToolError,
    ToolRegistryError,
    ToolSourceError,
    TranscriptError,
)
from planner.exports import lazy_exports
from planner.functions import tool
from planner.logging import configure_logging
from planner.loop import PlannerLoopInput, PlannerLoopResult, run_planner_loop
from planner.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    OutputSchema,
    ToolCall,
    ToolSchema,
    Usage,
)
from planner.models import Model, ModelOptions, ReplayModel, ScriptedModel
from planner.models.base import RETRY_SINK, RetryInfo, TextDelta
from planner.models.options import adapter_options, parse_pairs
from planner.models.scripted import StepDict
from planner.models.spec import PREFIXES as MODEL_PREFIXES
from planner.models.spec import from_spec, resolve_spec
from planner.output import import_output_model
from planner.policy import (
    PolicyDecision,
    PolicyGate,
    PolicyMode,
    UserPolicySettings,
    find_injection,
)
from planner.records import as_event
from planner.replay import RecordedRun, ReplayReport, live_tools, replay_run
from planner.resources import shipped_config, shipped_configs
from planner.state import (
    LastCall,
    LoopState,
    Reminder,
    ReminderChannel,
    StopReason,
    policy_flag_reminders,
)
from planner.subagents import (
    DEFAULT_SUBAGENTS,
    TASK_TOOL,
    SubAgentSpec,
    ToolFilter,
    with_subagents,
)
from planner.tools import (
    SPACE_HEADER,
    AnyToolSpec,
    PolicyHint,
    Scope,
    ToolContext,
    ToolRegistry,
    ToolResult,
    ToolSpec,
    mcp_annotations,
    read_tools_are_parallel_safe,
)
from planner.transcript import (
    AnyEvent,
    CompactionEvent,
    EventBase,
    FileTranscript,
    Header,
    MemoryTranscript,
    PolicyEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RunFinished,
    RunStarted,
    ToolCallEvent,
    ToolResultEvent,
    Transcript,
    TranscriptEvent,
    read_transcript,
)

if TYPE_CHECKING:
    from planner.diff import DiffReport, diff_transcripts, side_by_side
    from planner.forking import ForkResult, fork
    from planner.mcp import (
        McpToolSource,
        RemoteInput,
        ToolSource,
        mcp_tool_registry,
        result_of,
        stdio_tool_registry,
    )
    from planner.models.anthropic import AnthropicModel
    from planner.models.openai_chat import OpenAIChatModel
    from planner.models.openai_responses import OpenAIResponsesModel
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

__getattr__ = lazy_exports(
    __name__,
    {
        "planner.diff": ("DiffReport", "diff_transcripts", "side_by_side"),
        "planner.forking": ("ForkResult", "fork"),
        "planner.mcp": (
            "McpToolSource",
            "RemoteInput",
            "ToolSource",
            "mcp_tool_registry",
            "result_of",
            "stdio_tool_registry",
        ),
        "planner.models.anthropic": ("AnthropicModel",),
        "planner.models.openai_chat": ("OpenAIChatModel",),
        "planner.models.openai_responses": ("OpenAIResponsesModel",),
        "planner.stream": (
            "EventFeed",
            "RoundEnd",
            "RunEnd",
            "RunEvent",
            "RunEvents",
            "ToolCallDecided",
            "stream_planner_loop",
            "with_deltas",
        ),
    },
)

__all__ = [
    "DEFAULT_SUBAGENTS",
    "MODEL_PREFIXES",
    "PARALLEL_TOOL_BATCH_SIZE",
    "RETRY_SINK",
    "SPACE_HEADER",
    "TASK_TOOL",
    "AnthropicModel",
    "AnyEvent",
    "AnyToolSpec",
    "CompactionEvent",
    "Compactor",
    "ConfigError",
    "DiffReport",
    "EventBase",
    "EventFeed",
    "ExecutedCall",
    "FileTranscript",
    "ForkError",
    "ForkResult",
    "Header",
    "LastCall",
    "LoopState",
    "McpToolSource",
    "MemoryTranscript",
    "Message",
    "MissingApiKeyError",
    "Model",
    "ModelError",
    "ModelOptionError",
    "ModelOptions",
    "ModelRequest",
    "ModelResponse",
    "OpenAIChatModel",
    "OpenAIResponsesModel",
    "OutputModelError",
    "OutputSchema",
    "PlannerError",
    "PlannerLoopInput",
    "PlannerLoopResult",
    "PolicyDecision",
    "PolicyEvent",
    "PolicyGate",
    "PolicyHint",
    "PolicyMode",
    "RecordedRun",
    "Reminder",
    "ReminderChannel",
    "RemoteInput",
    "ReplayModel",
    "ReplayReport",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "RetryInfo",
    "RoundDispatch",
    "RoundEnd",
    "RunEnd",
    "RunEvent",
    "RunEvents",
    "RunFinished",
    "RunStarted",
    "Scope",
    "ScriptExhaustedError",
    "ScriptedModel",
    "StepDict",
    "StopReason",
    "SubAgentSpec",
    "SummarizingCompactor",
    "TextDelta",
    "ToolCall",
    "ToolCallDecided",
    "ToolCallEvent",
    "ToolContext",
    "ToolError",
    "ToolFilter",
    "ToolRegistry",
    "ToolRegistryError",
    "ToolResult",
    "ToolResultEvent",
    "ToolSchema",
    "ToolSource",
    "ToolSourceError",
    "ToolSpec",
    "Transcript",
    "TranscriptError",
    "TranscriptEvent",
    "Usage",
    "UserPolicySettings",
    "adapter_options",
    "as_event",
    "configure_logging",
    "diff_transcripts",
    "dispatch_call",
    "error_result",
    "execute",
    "find_injection",
    "fork",
    "from_spec",
    "import_output_model",
    "lazy_exports",
    "live_tools",
    "mcp_annotations",
    "mcp_tool_registry",
    "parse_pairs",
    "policy_flag_reminders",
    "read_tools_are_parallel_safe",
    "read_transcript",
    "replay_run",
    "resolve_spec",
    "result_of",
    "run_planner_loop",
    "shipped_config",
    "shipped_configs",
    "side_by_side",
    "stdio_tool_registry",
    "stream_planner_loop",
    "tool",
    "with_deltas",
    "with_subagents",
]
