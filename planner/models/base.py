"""The Model protocol every adapter implements, and the channel retries are reported on."""

from __future__ import annotations

from collections.abc import Callable
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
