"""Transcript event models: what each JSONL line of a transcript holds, and their parser."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from planner.messages import Message, ToolCall, Usage

if TYPE_CHECKING:
    from planner.tools import AnyToolSpec

SCHEMA_VERSION = 1
TRANSCRIPT_FORMAT = "mana-planner"
MAX_LINE_BYTES = 64 * 1024 * 1024
"""The longest event line the writer writes and the reader reads."""


class EventBase(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str = ""
    path: str = ""
    """Empty for the top-level run; `call_id/sub_run_id` segments for nested sub-agents."""
    ts: float = Field(default_factory=time.time)


class Header(EventBase):
    """The first line of every transcript."""

    type: Literal["header"] = "header"
    schema_version: int = SCHEMA_VERSION
    format: str = TRANSCRIPT_FORMAT
    """Which program wrote the file (transcripts written before this field have none)."""
    parent_transcript: str | None = None
    """Set on a fork: the transcript it was forked from."""
    fork_round: int | None = None
    """Set on a fork: the first round that ran live."""


class ToolInfo(BaseModel):
    """A tool as the run saw it: schema plus the fields the policy gate reads."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    input_schema: dict[str, Any]
    scope: str = "user-space"
    policy_hint: str = "write"

    @classmethod
    def of(cls, spec: AnyToolSpec) -> ToolInfo:
        """The recorded form of a tool spec."""
        return cls(
            name=spec.name,
            description=spec.description,
            input_schema=spec.input_schema,
            scope=spec.scope,
            policy_hint=spec.policy_hint,
        )


class RunStarted(EventBase):
    """What the run was given: model, prompts, tools, settings."""

    type: Literal["run_started"] = "run_started"
    model: str
    system_prompt: str
    user_prompt: str
    prior_messages: list[Message] = Field(default_factory=list)
    tools: list[ToolInfo] = Field(default_factory=list)
    loop: dict[str, Any] = Field(default_factory=dict)
    """The loop's own limits, context and policy mode, as replay needs them."""
    settings: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] | None = None
    """The output model asked for: name, import ref and JSON schema (None: a text answer)."""


class RequestEvent(EventBase):
    """One model request: the messages added since the last request, and its reminders."""

    type: Literal["request"] = "request"
    round: int
    messages_added: list[Message]
    reminders: list[str] = Field(default_factory=list)


class ResponseEvent(EventBase):
    """One model response."""

    type: Literal["response"] = "response"
    round: int
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    stop_reason: str = "end_turn"
    latency_ms: float = 0.0
    model: str = ""


class RetryEvent(EventBase):
    """A model call the adapter retried."""

    type: Literal["retry"] = "retry"
    round: int
    attempt: int
    error: str
    wait_s: float
    status: int | None = None


class PolicyEvent(EventBase):
    """One policy decision."""

    type: Literal["policy"] = "policy"
    round: int
    call_id: str
    tool: str
    verdict: str
    reason: str | None = None
    flagged: str | None = None
    mode: str


class ToolCallEvent(EventBase):
    """A tool call about to be dispatched."""

    type: Literal["tool_call"] = "tool_call"
    round: int
    call_id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolResultEvent(EventBase):
    """The result of one tool call, as the model reads it."""

    type: Literal["tool_result"] = "tool_result"
    round: int
    call_id: str
    name: str
    success: bool
    message: str
    data: Any = None
    duration_ms: float = 0.0
    usage: Usage | None = None
    """Model usage the tool reported (a nested run's, say); added to the run's totals."""


class CompactionEvent(EventBase):
    """Older history replaced by a summary."""

    type: Literal["compaction"] = "compaction"
    round: int
    removed: int
    summary: str


class RunFinished(EventBase):
    """How the run ended, with totals."""

    type: Literal["run_finished"] = "run_finished"
    stop_reason: str
    rounds: int
    tool_calls: int
    usage: Usage = Field(default_factory=Usage)
    summary: str = ""
    error: str | None = None
    reminder_counts: dict[str, int] = Field(default_factory=dict)
    output: Any = None
    """The validated output value as JSON, when the run asked for an output model."""


TranscriptEvent = Annotated[
    Header
    | RunStarted
    | RequestEvent
    | ResponseEvent
    | RetryEvent
    | PolicyEvent
    | ToolCallEvent
    | ToolResultEvent
    | CompactionEvent
    | RunFinished,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[TranscriptEvent] = TypeAdapter(TranscriptEvent)
