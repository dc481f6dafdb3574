"""Transcript events, the JSONL recorder and the reader. One event a line, flushed as it happens."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from planner.errors import TranscriptError
from planner.messages import Message, ToolCall, Usage
from planner.records import (
    FAST_ENCODE_ERRORS,
    EventRecord,
    as_event,
    encode_fast,
    record_class,
)
from planner.transcript_order import TranscriptOrder

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
_EVENT_ADAPTER: TypeAdapter[TranscriptEvent] = TypeAdapter(TranscriptEvent)


AnyEvent = EventBase | EventRecord
"""What a transcript is handed: a typed event, or the write path's record of one."""

_FAST: dict[type[EventBase], type[EventRecord]] = {
    cls: record_class(cls)
    for cls in (
        RequestEvent,
        ResponseEvent,
        RetryEvent,
        PolicyEvent,
        ToolCallEvent,
        ToolResultEvent,
        CompactionEvent,
    )
}
"""The events the engine writes often, built as msgspec records. Their free-form values are
checked JSON (planner.jsondata) or pydantic models; run_started and run_finished, whose
settings and output are not, stay validated pydantic events."""
_FAST_TYPES = frozenset(_FAST.values())


def event_class(kind: type[EventBase]) -> type[AnyEvent]:
    """What to build for an event of `kind`: its msgspec record when it is a hot event."""
    return _FAST.get(kind, kind)


def new_event(kind: type[EventBase], /, **fields: Any) -> AnyEvent:
    """The event to record: an unvalidated record for the hot events, else the typed event."""
    return _FAST.get(kind, kind)(**fields)


class Transcript(Protocol):
    """Where a run writes its events (records and typed events; `as_event` gives the latter)."""

    def record(self, event: AnyEvent) -> None:
        """Write one event now."""
        ...


class MemoryTranscript:
    """Keeps typed events in a list: for tests and for sub-runs that nest in a parent."""

    def __init__(self) -> None:
        self.events: list[EventBase] = []

    def record(self, event: AnyEvent) -> None:
        """Append one event (as its typed pydantic event)."""
        self.events.append(as_event(event))


class FileTranscript:
    """Writes JSONL, one flushed line per event, starting with a header line."""

    def __init__(self, path: str | Path, header: Header | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # unbuffered: each event is one write(2) of its UTF-8 JSON line, so it is on disk as
        # soon as record returns, without a text layer encoding and flushing it
        self._fh: IO[bytes] = self.path.open("wb", buffering=0)
        self.record(header or Header())

    def record(self, event: AnyEvent) -> None:
        """Write one event line (unbuffered: written when this returns).

        An event the reader could not read back (not serializable, nested too deeply, a line
        over MAX_LINE_BYTES) raises TranscriptError and writes nothing.
        """
        if type(event) in _FAST_TYPES:  # the hot path, without encode_event's layers
            try:
                line = encode_fast(event)
            except FAST_ENCODE_ERRORS:
                pass
            else:
                if len(line) < MAX_LINE_BYTES:
                    self._fh.write(line + b"\n")
                    return
        self._fh.write(encode_event(event, self.path))

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def __enter__(self) -> FileTranscript:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def encode_event(event: AnyEvent, path: str | Path = "transcript") -> bytes:
    """One event as its JSON line; TranscriptError when no reader could read it back.

    A record is encoded by msgspec; one msgspec cannot encode goes through its typed event,
    whose serializer decides (and refuses) as for any typed event.
    """
    try:
        line = _encode(event) + b"\n"
    except (PydanticSerializationError, ValueError, RecursionError) as exc:
        raise TranscriptError(f"{path}: cannot write a {_kind(event)} event: {exc}") from exc
    if len(line) > MAX_LINE_BYTES:
        raise TranscriptError(
            f"{path}: a {_kind(event)} event of {len(line)} bytes is over the "
            f"{MAX_LINE_BYTES}-byte line limit"
        )
    return line


def _encode(event: AnyEvent) -> bytes:
    if isinstance(event, EventRecord):
        try:
            return encode_fast(event)
        except FAST_ENCODE_ERRORS:
            typed: EventBase = as_event(event)
            return typed.__pydantic_serializer__.to_json(typed)
    return event.__pydantic_serializer__.to_json(event)


def _kind(event: AnyEvent) -> str:
    return str(getattr(event, "type", type(event).__name__))


def parse_event(line: str | bytes) -> TranscriptEvent:
    """Parse one JSON line into its typed event (ValueError or ValidationError when bad).

    The fast parser stops at about 200 levels of nesting; deeper lines (which the writer
    writes up to its own limit) go through the standard library's parser instead.
    """
    try:
        return _EVENT_ADAPTER.validate_json(line)
    except ValidationError as exc:
        if "recursion limit" not in str(exc.errors()[0].get("msg", "")):
            raise
    return _EVENT_ADAPTER.validate_python(json.loads(line))


def read_transcript(path: str | Path) -> Iterator[TranscriptEvent]:
    """Yield typed events; anything malformed raises TranscriptError naming file:line.

    A last line cut short without its newline (a run killed mid-write) is left out, so a
    killed run reads up to its last complete event.
    """
    p = Path(path)
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise TranscriptError(f"{p}: cannot open transcript: {exc}") from exc
    order = TranscriptOrder(p, TRANSCRIPT_FORMAT, SCHEMA_VERSION)
    with fh:
        lineno = 0
        while raw := fh.readline(MAX_LINE_BYTES + 1):
            lineno += 1
            where = f"{p}:{lineno}"
            complete = raw.endswith(b"\n")
            if not complete and len(raw) > MAX_LINE_BYTES:
                raise TranscriptError(f"{where}: line is over the {MAX_LINE_BYTES}-byte limit")
            if not raw.strip():
                continue
            try:
                event = _decode(raw, where)
            except TranscriptError:
                if not complete and not fh.read(1):
                    return  # the cut-off last line of a killed run
                raise
            order.check(event, lineno)
            yield event
    order.finish()


def _decode(raw: bytes, where: str) -> TranscriptEvent:
    """One line's bytes as a typed event, or TranscriptError saying what is wrong."""
    if b"\x00" in raw:
        raise TranscriptError(f"{where}: line holds a NUL byte (not a text transcript)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"{where}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return parse_event(text)
    except ValidationError as exc:
        raise TranscriptError(f"{where}: {_first_problem(exc)}") from exc
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{where}: not valid JSON: {exc.msg} at column {exc.colno}") from exc
    except (RecursionError, ValueError) as exc:
        raise TranscriptError(f"{where}: not valid JSON: {type(exc).__name__}") from exc


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err.get("loc", ())) or "line"
    if err.get("type") == "json_invalid":
        return f"not valid JSON: {err.get('msg')}"
    return f"{where}: {err.get('msg')}"
