"""The Model protocol every adapter implements."""

from __future__ import annotations

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
