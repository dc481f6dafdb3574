"""Run one mission: build tools, gate and reminders, run the loop, write the transcript."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from missions.app import App
from missions.config import MissionConfig, ToolSourceConfig
from missions.errors import MissionConfigError
from missions.output import mission_output_model
from missions.planonly import plan_only
from missions.policy import policy_gate
from missions.store import RunRecord
from missions.subagents import subagent_specs
from missions.toolmodules import with_provided_tools
from planner import (
    AnyEvent,
    AnyToolSpec,
    EventBase,
    FileTranscript,
    Model,
    PlannerLoopInput,
    PlannerLoopResult,
    ToolContext,
    ToolRegistry,
    adapter_options,
    as_event,
    from_spec,
    parse_pairs,
    read_tools_are_parallel_safe,
    resolve_spec,
    run_planner_loop,
    with_subagents,
)
from reminders import build_channel

EventSink = Callable[[EventBase], None]


@dataclass(frozen=True)
class MissionRun:
    """One finished run of a mission."""

    run_id: str
    mission_id: str
    result: PlannerLoopResult
    transcript_path: Path
    started_at: float
    finished_at: float
    model_id: str


class TeeTranscript:
    """A file transcript that also hands each event to live sinks (progress, spans)."""

    def __init__(self, file: FileTranscript, *sinks: EventSink | None) -> None:
        self.file = file
        self.sinks = [s for s in sinks if s is not None]

    def record(self, event: AnyEvent) -> None:
        """Write the event, then hand it on (typed: sinks read the pydantic events)."""
        self.file.record(event)
        self._hand_on(event)

    def hold(self, event: AnyEvent) -> None:
        """Keep the event's line for the file's next flush (see FileTranscript.hold); hand it on."""
        self.file.hold(event)
        self._hand_on(event)

    def flush(self) -> None:
        """Write the lines the file holds."""
        self.file.flush()

    def _hand_on(self, event: AnyEvent) -> None:
        if self.sinks:
            typed = as_event(event)
            for sink in self.sinks:
                sink(typed)


def span_sink(mission_id: str, tracer: Any = None) -> EventSink | None:
    """OpenTelemetry spans for a run, when opentelemetry-sdk is installed and configured."""
    try:
        from missions.otel import SpanTranscript, configured_tracer
    except ImportError:
        return None
    chosen = tracer or configured_tracer()
    return SpanTranscript(chosen, mission_id).record if chosen is not None else None


def new_run_id() -> str:
    """A sortable, unique run id."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def mission_settings(cfg: MissionConfig, mission_path: Path | None) -> dict[str, Any]:
    """What the transcript records so replay can rebuild reminders and tools."""
    return {
        "mission": cfg.id,
        "mission_path": str(mission_path) if mission_path else None,
        "mode": cfg.mode,
        "reminders": cfg.reminders,
        "tools": cfg.tools,
    }


def build_input(
    cfg: MissionConfig,
    tools: ToolRegistry,
    model: Model,
    run_id: str,
    space_id: str,
    transcript: Any = None,
    mission_path: Path | None = None,
) -> PlannerLoopInput:
    """The loop input for one run of `cfg` over `tools` (already selected for it); offer its
    sub-agents with `with_subagents(inp, subagent_specs(cfg))` once the input is final."""
    limits = cfg.limits
    return PlannerLoopInput(
        model=model,
        system_prompt=cfg.system_prompt,
        user_prompt=cfg.objective,
        tools=tools,
        context=ToolContext(user_id=cfg.user_id, space_id=space_id, run_id=run_id),
        policy=policy_gate(cfg),
        reminder_channel=build_channel(cfg.reminders, f"{cfg.id}: reminders"),
        is_parallel_safe=read_tools_are_parallel_safe if cfg.parallel_reads else None,
        max_rounds=limits.max_rounds,
        max_tool_calls=limits.max_tool_calls,
        token_budget=limits.token_budget,
        cost_budget_usd=limits.cost_budget_usd,
        timeout_s=limits.timeout_s,
        transcript=transcript,
        settings=mission_settings(cfg, mission_path),
        output_model=mission_output_model(cfg, mission_path),
    )


def record_of(run: MissionRun) -> RunRecord:
    """The run store's row for a finished run."""
    r = run.result
    return RunRecord(
        id=run.run_id,
        mission_id=run.mission_id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        stop_reason=r.stop_reason.value,
        rounds=r.rounds,
        tool_calls=len(r.executed_calls),
        input_tokens=r.usage.input_tokens,
        output_tokens=r.usage.output_tokens,
        cost_usd=r.usage.cost_usd,
        model=run.model_id,
        transcript_path=str(run.transcript_path),
        error=r.error,
    )


@asynccontextmanager
async def remote_tools(
    cfg: MissionConfig, mission_path: Path | None = None
) -> AsyncIterator[ToolRegistry]:
    """The tools of the mission's `[[tool_sources]]`, callable while the block runs."""
    async with AsyncExitStack() as stack:
        specs: list[AnyToolSpec] = []
        for source in cfg.tool_sources:
            registry = await stack.enter_async_context(tool_source(cfg, source, mission_path))
            specs.extend(registry)
        yield ToolRegistry(specs)


def tool_source(
    cfg: MissionConfig, source: ToolSourceConfig, mission_path: Path | None
) -> AbstractAsyncContextManager[ToolRegistry]:
    """One `[[tool_sources]]` entry opened: a stdio server process, or an HTTP server."""
    from planner import mcp_tool_registry, stdio_tool_registry

    if source.command is not None:
        base = mission_path.parent if mission_path else Path.cwd()
        cwd = base / source.cwd if source.cwd else None
        return stdio_tool_registry(source.command, env=source.env, cwd=cwd, prefix=source.prefix)
    assert source.url is not None  # the config allows one of command and url
    token = None
    if source.token_env:
        token = os.environ.get(source.token_env)
        if not token:
            raise MissionConfigError(
                f"{cfg.id}: tool_sources: {source.url}: environment variable "
                f"{source.token_env} is not set"
            )
    return mcp_tool_registry(source.url, token, source.space, prefix=source.prefix)


def mission_tools(
    cfg: MissionConfig, app: App, mission_path: Path | None, remote: ToolRegistry | None = None
) -> ToolRegistry:
    """The tools this mission may see (built-in, its own modules', its tool sources'); in
    plan-only mode writes become proposals."""
    available = with_provided_tools(app.tools, cfg, mission_path)
    if remote:
        available = available.merged(remote)
    selected = available.filter(lambda spec: cfg.selects(spec.name))
    if cfg.mode == "plan-only":
        return plan_only(selected, app.runs, cfg.id, str(mission_path) if mission_path else None)
    return selected


def with_model_options(
    cfg: MissionConfig, pairs: Sequence[str], model_spec: str | None = None
) -> MissionConfig:
    """`cfg` with `--model-option KEY=VALUE` pairs over its `[model_options]`, checked for the
    provider the run will use (ModelOptionError names the option)."""
    options = cfg.model_options.merged(parse_pairs(pairs)) if pairs else cfg.model_options
    adapter_options((model_spec or cfg.model).partition(":")[0], options.given())
    return cfg.model_copy(update={"model_options": options})


def mission_model(cfg: MissionConfig, model_spec: str | None, mission_path: Path | None) -> Model:
    """The mission's model (or `model_spec`, as given) with the mission's `[model_options]`."""
    spec = model_spec or resolve_spec(cfg.model, mission_path.parent if mission_path else None)
    return from_spec(spec, **cfg.model_options.given())


async def run_mission(
    cfg: MissionConfig,
    app: App,
    *,
    model: Model | None = None,
    model_spec: str | None = None,
    run_id: str | None = None,
    mission_path: Path | None = None,
    on_event: EventSink | None = None,
    tracer: Any = None,
) -> MissionRun:
    """Run a mission once: transcript to runs/<mission>/<run_id>.jsonl, a row in the run store."""
    rid = run_id or new_run_id()
    chosen = model or mission_model(cfg, model_spec, mission_path)
    try:
        return await _run_with(cfg, app, chosen, rid, mission_path, on_event, tracer)
    finally:
        if model is None:  # built here from a spec: close its HTTP client
            close = getattr(chosen, "aclose", None)
            if close is not None:
                await close()


async def _run_with(
    cfg: MissionConfig,
    app: App,
    chosen: Model,
    rid: str,
    mission_path: Path | None,
    on_event: EventSink | None,
    tracer: Any,
) -> MissionRun:
    """run_mission's body, with the model chosen and the run id picked."""
    path = app.settings.runs_dir / cfg.id / f"{rid}.jsonl"
    space_id = cfg.space_id or (await app.store.personal_space(cfg.user_id)).id
    started = time.time()
    await app.runs.record_run(
        RunRecord(
            rid, cfg.id, started, None, None, 0, 0, 0, 0, 0.0, chosen.model_id, str(path), None
        )
    )
    async with remote_tools(cfg, mission_path) as remote:
        with (
            FileTranscript(path) as file,
            structlog.contextvars.bound_contextvars(mission=cfg.id),
        ):
            inp = build_input(
                cfg,
                mission_tools(cfg, app, mission_path, remote),
                chosen,
                rid,
                space_id,
                TeeTranscript(file, on_event, span_sink(cfg.id, tracer)),
                mission_path,
            )
            result = await run_planner_loop(with_subagents(inp, subagent_specs(cfg)))
    run = MissionRun(rid, cfg.id, result, path, started, time.time(), chosen.model_id)
    await app.runs.record_run(record_of(run))
    return run
