"""A model that answers with the responses recorded in a transcript, in order."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from planner.errors import ScriptExhaustedError
from planner.messages import ModelRequest, ModelResponse
from planner.transcript import ResponseEvent, TranscriptEvent, read_transcript


class ReplayModel:
    """Plays back recorded responses of one run path; `.requests` keeps what it was sent."""

    def __init__(self, responses: Iterable[ResponseEvent], model_id: str = "replay") -> None:
        self._responses = list(responses)
        self._next = 0
        self._model_id = model_id
        self.requests: list[ModelRequest] = []

    @property
    def model_id(self) -> str:
        """The id of the replayed model."""
        return self._model_id

    @classmethod
    def from_events(cls, events: Iterable[TranscriptEvent], path: str = "") -> ReplayModel:
        """Take the responses of the run at `path` (top level by default)."""
        responses = [e for e in events if isinstance(e, ResponseEvent) and e.path == path]
        return cls(responses)

    @classmethod
    def from_transcript(cls, file: str | Path, path: str = "") -> ReplayModel:
        """Read a transcript file and take the responses of the run at `path`."""
        model = cls.from_events(read_transcript(file), path)
        model._model_id = f"replay:{file}"
        return model

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Return the next recorded response."""
        self.requests.append(request)
        if self._next >= len(self._responses):
            raise ScriptExhaustedError(
                f"the transcript holds {len(self._responses)} responses; round {request.round} "
                "asked for one more"
            )
        event = self._responses[self._next]
        self._next += 1
        return ModelResponse(
            text=event.text,
            tool_calls=tuple(event.tool_calls),
            stop_reason=event.stop_reason,
            usage=event.usage,
            model=event.model,
            latency_ms=event.latency_ms,
        )
