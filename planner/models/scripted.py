"""A model that plays back scripted steps: for tests, demos and benchmarks."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.errors import ConfigError, ScriptExhaustedError
from planner.messages import ModelRequest, ModelResponse, ToolCall, Usage

StepDict = dict[str, Any]
StepFn = Callable[[ModelRequest], StepDict | Awaitable[StepDict]]
Step = StepDict | StepFn


class ScriptedModel:
    """Answers each request with the next step: a dict, or a callable that returns one."""

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        latency_s: float = 0.0,
        model_id: str = "scripted",
        keep_requests: bool = True,
    ) -> None:
        """`keep_requests=False` leaves `requests` empty (benchmarks: no history kept alive);
        `calls` counts the requests either way."""
        self._steps = list(steps)
        self._keep = keep_requests
        self.calls = 0
        self._next = 0
        self._ids = itertools.count(1)
        self.latency_s = latency_s
        self._model_id = model_id
        self.requests: list[ModelRequest] = []

    @property
    def model_id(self) -> str:
        """The id recorded in transcripts."""
        return self._model_id

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> ScriptedModel:
        """Load steps from a JSON file holding a list of step dicts."""
        p = Path(path)
        try:
            steps = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{p}: cannot read scripted steps: {exc}") from exc
        if not isinstance(steps, list):
            raise ConfigError(f"{p}: scripted steps must be a JSON list of steps")
        return cls(steps, model_id=f"scripted:{p}", **options)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Return the next scripted step as a response."""
        self.calls += 1
        if self._keep:
            self.requests.append(request)
        if self._next >= len(self._steps):
            raise ScriptExhaustedError(
                f"scripted model has {len(self._steps)} steps and was asked for step "
                f"{self._next + 1} (round {request.round})"
            )
        started = time.perf_counter()
        step = self._steps[self._next]
        self._next += 1
        if callable(step):
            produced = step(request)
            step = await produced if inspect.isawaitable(produced) else produced
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        return self._to_response(step, (time.perf_counter() - started) * 1000)

    def _to_response(self, step: StepDict, latency_ms: float) -> ModelResponse:
        """Turn one step dict into a ModelResponse, with clear errors for bad steps."""
        try:
            calls = tuple(
                ToolCall(
                    id=str(c.get("id") or f"call_{next(self._ids)}"),
                    name=c["name"],
                    arguments=c.get("arguments", {}),
                    arguments_error=c.get("arguments_error"),
                )
                for c in step.get("tool_calls", ())
            )
            usage = Usage(**step.get("usage", {}))
        except (KeyError, TypeError, ValidationError) as exc:
            raise ConfigError(f"scripted step {self._next} is malformed: {exc}") from exc
        default_stop = "tool_use" if calls else "end_turn"
        return ModelResponse(
            text=str(step.get("text", "")),
            tool_calls=calls,
            stop_reason=step.get("stop_reason", default_stop),
            usage=usage,
            model=self._model_id,
            latency_ms=latency_ms,
        )
