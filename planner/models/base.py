"""The Model protocol every adapter implements, and the channels retries and text deltas are
reported on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from planner.messages import ModelRequest, ModelResponse


@runtime_checkable
class Model(Protocol):
    """Something that answers a provider-neutral request; retries live inside it."""

    @property
    def model_id(self) -> str:
        """A spec-like id for transcripts, e.g. `anthropic:claude-sonnet-4-5`."""
        ...

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Send one request and return the answer, or raise ModelError for good."""
        ...


@dataclass(frozen=True)
class RetryInfo:
    """One retry about to happen: which attempt failed, why, and how long we wait."""

    attempt: int
    error: str
    wait_s: float
    status: int | None


RETRY_SINK: ContextVar[Callable[[RetryInfo], None] | None] = ContextVar("RETRY_SINK", default=None)
"""Set by the loop around model calls so each retry also becomes a transcript event."""


@dataclass(frozen=True)
class TextDelta:
    """A piece of answer text as a streaming adapter received it; the loop stamps
    the round and run path before it reaches the sink set around the run."""

    text: str
    round: int = 0
    path: str = ""


DELTA_SINK: ContextVar[Callable[[TextDelta], None] | None] = ContextVar("DELTA_SINK", default=None)
"""Set around a run (see planner.stream) to receive text deltas as streaming adapters get them."""


def emit_text(text: str) -> None:
    """Hand one piece of streamed answer text to the delta sink, when one is set."""
    sink = DELTA_SINK.get()
    if sink is not None and text:
        sink(TextDelta(text))


@contextmanager
def stamped_deltas(round_no: int, path: str) -> Iterator[None]:
    """Inside the block, deltas reach the outer sink stamped with this round and run path."""
    outer = DELTA_SINK.get()
    if outer is None:
        yield
        return
    token = DELTA_SINK.set(lambda d: outer(TextDelta(d.text, round_no, path)))
    try:
        yield
    finally:
        DELTA_SINK.reset(token)
