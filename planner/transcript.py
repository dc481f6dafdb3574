"""Transcripts: the JSONL recorder and the reader (events: planner.transcript_events). One event a
line; lines made at the same moment share one write(2), before anything that could be lost."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from planner.errors import TranscriptError
from planner.records import (
    FAST_ENCODE_ERRORS,
    EventRecord,
    as_event,
    encode_fast,
    record_class,
)
from planner.transcript_events import (
    EVENT_ADAPTER,
    MAX_LINE_BYTES,
    SCHEMA_VERSION,
    TRANSCRIPT_FORMAT,
    CompactionEvent,
    EventBase,
    Header,
    PolicyEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RunFinished,
    RunStarted,
    ToolCallEvent,
    ToolInfo,
    ToolResultEvent,
    TranscriptEvent,
)
from planner.transcript_order import TranscriptOrder

__all__ = [
    "EVENT_ADAPTER",
    "MAX_LINE_BYTES",
    "SCHEMA_VERSION",
    "TRANSCRIPT_FORMAT",
    "AnyEvent",
    "CompactionEvent",
    "EventBase",
    "FileTranscript",
    "Header",
    "MemoryTranscript",
    "PolicyEvent",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "RunFinished",
    "RunStarted",
    "ToolCallEvent",
    "ToolInfo",
    "ToolResultEvent",
    "Transcript",
    "TranscriptEvent",
    "encode_event",
    "event_class",
    "hold_and_flush",
    "new_event",
    "parse_event",
    "read_transcript",
]

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
    """Writes JSONL, one line per event, starting with a header line.

    `record` writes an event now. `hold` encodes one and keeps its line until the next
    `flush` (or `record`, or `close`), so lines made at the same moment go out in one
    write(2): the loop holds what it records between two points where something could be
    lost (a model call, a tool's handler, the end of a call or round) and flushes there.
    """

    def __init__(self, path: str | Path, header: Header | None = None) -> None:
        self.path = Path(path)
        try:
            self._fd = os.open(self.path, _OPEN_FLAGS, 0o644)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, _OPEN_FLAGS, 0o644)
        self._pending: list[bytes] = []
        self.record(header or Header())

    def record(self, event: AnyEvent) -> None:
        """Write one event line, after any held ones (unbuffered: written when this returns).

        An event the reader could not read back (not serializable, nested too deeply, a line
        over MAX_LINE_BYTES) raises TranscriptError and writes nothing.
        """
        self.hold(event)
        self.flush()

    def hold(self, event: AnyEvent) -> None:
        """Encode one event line now and keep it for the next flush (refused as by record)."""
        if type(event) in _FAST_TYPES:  # the hot path, without encode_event's layers
            try:
                line = encode_fast(event)
            except FAST_ENCODE_ERRORS:
                pass
            else:
                if len(line) < MAX_LINE_BYTES:
                    self._pending.append(line + b"\n")
                    return
        self._pending.append(encode_event(event, self.path))

    def flush(self) -> None:
        """Write the held lines, in the order they were held, in one write(2)."""
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        while data:
            data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        """Write what is held and close the file."""
        if self._fd < 0:
            return
        try:
            self.flush()
        finally:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> FileTranscript:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def hold_and_flush(
    transcript: Transcript | None,
) -> tuple[Callable[[AnyEvent], None], Callable[[], None]]:
    """A transcript's `hold` and `flush` when it batches (FileTranscript), else its `record`
    and a no-op: callers hold events and flush where one may be lost, for any transcript."""
    if transcript is None:
        return _ignore, _nothing
    hold = getattr(transcript, "hold", None)
    flush = getattr(transcript, "flush", None)
    if hold is None or flush is None:
        return transcript.record, _nothing
    return hold, flush


def _ignore(_event: AnyEvent) -> None:
    return None


def _nothing() -> None:
    return None


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
        return EVENT_ADAPTER.validate_json(line)
    except ValidationError as exc:
        if "recursion limit" not in str(exc.errors()[0].get("msg", "")):
            raise
    return EVENT_ADAPTER.validate_python(json.loads(line))


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
