"""Streaming: a run's events as an async iterator, with the loop's semantics unchanged.

`stream_planner_loop(inp)` runs the same `run_planner_loop` in a task and hands over what it
does as it happens: text deltas (from adapters that stream, through the `DELTA_SINK` context
variable; a model that does not stream gives its whole text as one delta), each tool call as
it is decided, each tool result and retry (the transcript's `ToolResultEvent` and
`RetryEvent`), the end of each round and the final result. The
events come from the run's own transcript events, so stop reasons, limits, cancellation and
the transcript are those of a plain run::

    async with stream_planner_loop(inp) as events:
        async for event in events:
            if isinstance(event, TextDelta):
                print(event.text, end="")
    events.result  # the PlannerLoopResult

Leaving the block before the run ends cancels the run (it ends `cancelled`, as recorded).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from planner.loop import PlannerLoopInput, PlannerLoopResult, run_planner_loop
from planner.messages import ToolCall, Usage
from planner.models.base import DELTA_SINK, TextDelta
from planner.records import as_event
from planner.transcript import (
    AnyEvent,
    EventBase,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RunFinished,
    ToolResultEvent,
    Transcript,
)

T = TypeVar("T")


@dataclass(frozen=True)
class ToolCallDecided:
    """The model asked for this call (sent before the round's calls run)."""

    round: int
    call: ToolCall
    path: str = ""


@dataclass(frozen=True)
class RoundEnd:
    """A round is over: its answer text, how many calls it made, its model usage."""

    round: int
    text: str
    tool_calls: int
    usage: Usage
    stop_reason: str
    path: str = ""


@dataclass(frozen=True)
class RunEnd:
    """The run's result (the last event)."""

    result: PlannerLoopResult


RunEvent = TextDelta | ToolCallDecided | ToolResultEvent | RetryEvent | RoundEnd | RunEnd
"""Tool results and retries are the transcript's own `ToolResultEvent` and `RetryEvent`."""


class EventFeed:
    """Turns a run's transcript events and text deltas into run events, in order."""

    def __init__(self, emit: Callable[[RunEvent], None]) -> None:
        self.emit = emit
        self._open: dict[str, ResponseEvent] = {}
        self._streamed: set[tuple[str, int]] = set()

    def delta(self, delta: TextDelta) -> None:
        """A streaming adapter's text piece (set as the DELTA_SINK)."""
        self._streamed.add((delta.path, delta.round))
        self.emit(delta)

    def event(self, event: EventBase) -> None:
        """A transcript event, as the loop records it."""
        path = event.path
        if isinstance(event, RequestEvent | RunFinished):
            self._close(path)
        if isinstance(event, ResponseEvent):
            if event.text and (path, event.round) not in self._streamed:
                self.emit(TextDelta(event.text, event.round, path))
            self._open[path] = event
            for call in event.tool_calls:
                self.emit(ToolCallDecided(event.round, call, path))
        elif isinstance(event, ToolResultEvent):
            self.emit(event)
        elif isinstance(event, RetryEvent):  # text streamed by the failed attempt is void
            self._streamed.discard((path, event.round))
            self.emit(event)

    def _close(self, path: str) -> None:
        response = self._open.pop(path, None)
        if response is not None:
            self.emit(
                RoundEnd(
                    response.round,
                    response.text,
                    len(response.tool_calls),
                    response.usage,
                    response.stop_reason,
                    path,
                )
            )


class FeedTranscript:
    """The run's own transcript (if any) that also feeds every recorded event on."""

    def __init__(self, inner: Transcript | None, feed: EventFeed) -> None:
        self.inner = inner
        self.feed = feed

    def record(self, event: AnyEvent) -> None:
        """Record to the inner transcript; only an event it took is fed on (typed)."""
        if self.inner is not None:
            self.inner.record(event)
        self.feed.event(as_event(event))


class RunEvents:
    """The events of one streamed run; `result` is set once the run has ended."""

    def __init__(self, receive: MemoryObjectReceiveStream[RunEvent]) -> None:
        self._receive = receive
        self.result: PlannerLoopResult | None = None
        self.error: BaseException | None = None

    def __aiter__(self) -> RunEvents:
        return self

    async def __anext__(self) -> RunEvent:
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


async def with_deltas(feed: EventFeed | None, work: Awaitable[T]) -> T:
    """Await `work` with streamed text deltas going to `feed`, when one is given (for callers
    that already hand the transcript events to it, such as a mission's `on_event`)."""
    if feed is None:
        return await work
    token = DELTA_SINK.set(feed.delta)
    try:
        return await work
    finally:
        DELTA_SINK.reset(token)


@asynccontextmanager
async def stream_planner_loop(inp: PlannerLoopInput) -> AsyncIterator[RunEvents]:
    """Run the loop in a task and iterate its events (see the module docstring)."""
    send, receive = anyio.create_memory_object_stream[RunEvent](math.inf)
    feed = EventFeed(send.send_nowait)
    scope = inp.cancel_scope or anyio.CancelScope()
    events = RunEvents(receive)
    streamed = replace(inp, transcript=FeedTranscript(inp.transcript, feed), cancel_scope=scope)

    async def run() -> None:
        with send:
            try:
                events.result = await with_deltas(feed, run_planner_loop(streamed))
            except Exception as exc:  # re-raised, unwrapped, when the block exits
                events.error = exc
                return
            send.send_nowait(RunEnd(events.result))

    failure: Exception | None = None
    with receive:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            try:
                yield events
            except Exception as exc:  # the consumer's: raised as it is, not in a group
                failure = exc
            finally:
                if events.result is None:
                    scope.cancel()
    if failure is not None:
        raise failure
    if events.error is not None:
        raise events.error
