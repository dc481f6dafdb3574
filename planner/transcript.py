"""Transcript events, the JSONL recorder and the reader. One event a line, flushed as it happens."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from planner.errors import TranscriptError
from planner.messages import Message, ToolCall, Usage

SCHEMA_VERSION = 1


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
    policy_hint: str = "read"


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
_EVENT_ADAPTER: TypeAdapter[TranscriptEvent] = TypeAdapter(TranscriptEvent)


class Transcript(Protocol):
    """Where a run writes its events."""

    def record(self, event: EventBase) -> None:
        """Write one event now."""
        ...


class MemoryTranscript:
    """Keeps events in a list: for tests and for sub-runs that nest in a parent."""

    def __init__(self) -> None:
        self.events: list[EventBase] = []

    def record(self, event: EventBase) -> None:
        """Append one event."""
        self.events.append(event)


class FileTranscript:
    """Writes JSONL, one flushed line per event, starting with a header line."""

    def __init__(self, path: str | Path, header: Header | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # unbuffered: each event is one write(2) of its UTF-8 JSON line, so it is on disk as
        # soon as record returns, without a text layer encoding and flushing it
        self._fh: IO[bytes] = self.path.open("wb", buffering=0)
        self.record(header or Header())

    def record(self, event: EventBase) -> None:
        """Write one event line (unbuffered: written when this returns)."""
        self._fh.write(event.__pydantic_serializer__.to_json(event) + b"\n")

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def __enter__(self) -> FileTranscript:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def parse_event(line: str) -> TranscriptEvent:
    """Parse one JSON line into its typed event."""
    return _EVENT_ADAPTER.validate_json(line)


def read_transcript(path: str | Path) -> Iterator[TranscriptEvent]:
    """Yield typed events; a malformed line raises TranscriptError naming file:line."""
    p = Path(path)
    try:
        fh = p.open(encoding="utf-8")
    except OSError as exc:
        raise TranscriptError(f"{p}: cannot open transcript: {exc}") from exc
    with fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                event = parse_event(line)
            except ValidationError as exc:
                problem = _first_problem(exc)
                raise TranscriptError(f"{p}:{lineno}: {problem}") from exc
            if lineno == 1 and not isinstance(event, Header):
                raise TranscriptError(f"{p}:1: the first line must be the header")
            if isinstance(event, Header) and event.schema_version != SCHEMA_VERSION:
                raise TranscriptError(
                    f"{p}:{lineno}: schema version {event.schema_version} is not {SCHEMA_VERSION}"
                )
            yield event


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ())) or "line"
    if err.get("type") == "json_invalid":
        return f"not valid JSON: {err.get('msg')}"
    return f"{where}: {err.get('msg')}"


def dumps_messages(messages: list[Message]) -> str:
    """Serialize messages in a stable form for comparing requests."""
    return json.dumps([m.model_dump(mode="json") for m in messages], indent=1, sort_keys=True)
