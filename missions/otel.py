"""OpenTelemetry spans from transcript events, with the GenAI semantic conventions.

A run is an `invoke_agent` span, each model call a `chat` span with token usage, each tool
call an `execute_tool` span; a sub-agent's run is a child of its `task` call's span.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from planner import (
    AnyEvent,
    EventBase,
    RequestEvent,
    ResponseEvent,
    RunFinished,
    RunStarted,
    ToolCallEvent,
    ToolResultEvent,
    as_event,
)

EXPORTER_ENV = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT")


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


def _provider(model_id: str) -> str:
    return model_id.split(":", 1)[0] if ":" in model_id else model_id


def configured_tracer() -> Tracer | None:
    """A tracer when a real tracer provider is set up or an exporter is configured."""
    provider = trace.get_tracer_provider()
    is_proxy = type(provider).__name__ in ("ProxyTracerProvider", "NoOpTracerProvider")
    if is_proxy and not any(os.environ.get(v) for v in EXPORTER_ENV):
        return None
    return trace.get_tracer("mana-planner")


class SpanTranscript:
    """A transcript sink that turns a run's events into spans as they happen."""

    def __init__(self, tracer: Tracer, mission_id: str) -> None:
        self.tracer = tracer
        self.mission_id = mission_id
        self.runs: dict[str, Span] = {}
        self.models: dict[str, str] = {}
        self.chats: dict[str, Span] = {}
        self.tools: dict[tuple[str, str], Span] = {}

    def _start(self, name: str, parent: Span | None, ts: float, attrs: dict[str, Any]) -> Span:
        ctx = trace.set_span_in_context(parent) if parent is not None else None
        return self.tracer.start_span(name, context=ctx, start_time=_ns(ts), attributes=attrs)

    def _parent_tool(self, path: str) -> Span | None:
        if not path:
            return None
        parent_path, _, call_id = path.rpartition("/")
        return self.tools.get((parent_path, call_id))

    def record(self, recorded: AnyEvent) -> None:
        """Open or close the span this event belongs to (records read as typed events)."""
        event: EventBase = as_event(recorded)
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, event)

    def _run_started(self, event: RunStarted) -> None:
        path = event.path
        agent = event.settings.get("subagent") or self.mission_id
        self.models[path] = event.model
        self.runs[path] = self._start(
            f"invoke_agent {agent}",
            self._parent_tool(path),
            event.ts,
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": agent,
                "gen_ai.conversation.id": event.run_id,
                "gen_ai.request.model": event.model,
            },
        )

    def _request(self, event: RequestEvent) -> None:
        model = self.models.get(event.path, "")
        self.chats[event.path] = self._start(
            f"chat {model}",
            self.runs.get(event.path),
            event.ts,
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": _provider(model),
                "gen_ai.request.model": model,
                "mana.round": event.round,
                "mana.reminders": len(event.reminders),
            },
        )

    def _response(self, event: ResponseEvent) -> None:
        span = self.chats.pop(event.path, None)
        if span is None:
            return
        span.set_attributes(
            {
                "gen_ai.response.model": event.model,
                "gen_ai.response.finish_reasons": [event.stop_reason],
                "gen_ai.usage.input_tokens": event.usage.input_tokens,
                "gen_ai.usage.output_tokens": event.usage.output_tokens,
                "gen_ai.usage.cache_read.input_tokens": event.usage.cache_read_tokens,
            }
        )
        span.end(end_time=_ns(event.ts))

    def _tool_call(self, event: ToolCallEvent) -> None:
        self.tools[(event.path, event.call_id)] = self._start(
            f"execute_tool {event.name}",
            self.runs.get(event.path),
            event.ts,
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": event.name,
                "gen_ai.tool.call.id": event.call_id,
            },
        )

    def _tool_result(self, event: ToolResultEvent) -> None:
        tool = self.tools.pop((event.path, event.call_id), None)
        if tool is None:
            return
        if not event.success:
            tool.set_status(Status(StatusCode.ERROR, event.message[:200]))
        tool.end(end_time=_ns(event.ts))

    def _run_finished(self, event: RunFinished) -> None:
        run = self.runs.pop(event.path, None)
        if run is None:
            return
        run.set_attributes(
            {
                "mana.stop_reason": event.stop_reason,
                "gen_ai.usage.input_tokens": event.usage.input_tokens,
                "gen_ai.usage.output_tokens": event.usage.output_tokens,
            }
        )
        if event.stop_reason in ("model_error", "cancelled"):
            run.set_status(Status(StatusCode.ERROR, event.error or event.stop_reason))
        run.end(end_time=_ns(event.ts))

    _handlers: ClassVar[dict[type[EventBase], Callable[[Any, Any], None]]] = {
        RunStarted: _run_started,
        RequestEvent: _request,
        ResponseEvent: _response,
        ToolCallEvent: _tool_call,
        ToolResultEvent: _tool_result,
        RunFinished: _run_finished,
    }
