"""Durable mission runs on DBOS: a run is a workflow, every model call and tool call a step.

The planner engine knows nothing of DBOS. Durability comes from wrapping what the loop is given:

- `DurableModel` runs `complete()` as a DBOS step whose output is the response as JSON-able
  data (plus the retries it took and the time it came back); on recovery the recorded response
  is re-hydrated and the model is not called again.
- `durable_registry` wraps every tool handler so the call (gate already passed, arguments
  already validated) runs as a DBOS step; its result, error or timeout is the step output, so
  a completed write is never run again.

The loop is deterministic given the same responses and tool results, so on recovery DBOS hands
back the recorded outputs in order. Step ids are positional: parallel reads start in source
order (the task group starts them in order and the capacity limiter wakes waiters first in,
first out), so their ids are stable. Each step is named after what it is (`model#3`,
`tool:todo.create:toolu_01`), so a run that ever replays out of order fails loudly with
DBOSUnexpectedStepError instead of handing a recorded output to the wrong call.

The system database is SQLite under `./var/` by default and PostgreSQL when
`MANA_DATABASE_URL` is set; the code is the same.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import anyio
import structlog
from dbos import DBOS, DBOSConfig, SetWorkflowID
from pydantic import BaseModel, ValidationError

from missions.config import MissionConfig, load_mission
from missions.runner import EventSink, MissionRun, TeeTranscript, build_input, new_run_id
from missions.subagents import subagent_specs
from planner import (
    ModelError,
    ModelRequest,
    ModelResponse,
    PlannerLoopInput,
    SubAgentSpec,
    ToolContext,
    ToolRegistry,
    ToolResult,
    run_planner_loop,
    with_subagents,
)
from planner.dispatch import execute
from planner.models import Model
from planner.models.base import RETRY_SINK, RetryInfo
from planner.models.spec import from_spec
from planner.tools import AnyToolSpec
from planner.transcript import FileTranscript

APP_NAME = "mana-planner"
MISSION_QUEUE = "mana-missions"
DATABASE_ENV = "MANA_DATABASE_URL"
EXECUTOR_ENV = "MANA_EXECUTOR_ID"
DBOS_LOG_ENV = "MANA_DBOS_LOG_LEVEL"
DEFAULT_VAR_DIR = Path("var")
SQLITE_FILE = "mana-planner.sqlite"
STEP_TIMEOUT_MARGIN_S = 60.0
"""Extra time the dispatch timeout allows a tool step over the tool's own timeout (which the
step enforces itself, so a timeout is recorded like any other result)."""

Missed = Literal["skip", "once"]
ModelFactory = Callable[[str], Model]


def system_database_url(url: str | None = None, var_dir: Path = DEFAULT_VAR_DIR) -> str:
    """The DBOS system database: `url`, else $MANA_DATABASE_URL, else SQLite under `var_dir`.

    SQLAlchemy async driver names are dropped (`postgresql+asyncpg://` -> `postgresql://`):
    DBOS picks its own driver.
    """
    chosen = url or os.environ.get(DATABASE_ENV) or ""
    if not chosen:
        var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{var_dir / SQLITE_FILE}"
    scheme, sep, rest = chosen.partition("://")
    if not sep:
        raise ValueError(
            f"database url {chosen!r} has no scheme (postgresql://... or sqlite:///...)"
        )
    base = scheme.split("+", 1)[0]
    if base == "postgres":
        base = "postgresql"
    if base == "sqlite":
        path = rest.removeprefix("/")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return f"{base}://{rest}"


def executor_id() -> str:
    """This worker's DBOS executor id: $MANA_EXECUTOR_ID, else the host name.

    A worker recovers, on start, the pending runs of its own executor id, so two workers sharing
    a PostgreSQL database must not share one; a restart on the same host keeps it.
    """
    return os.environ.get(EXECUTOR_ENV) or socket.gethostname() or "local"


# --- steps ---------------------------------------------------------------------------------


@dataclass
class StepClock:
    """The gate's clock in a durable run: the time the latest model response came back.

    It is read from recorded step outputs, so the rate-limit window sees the same times when
    a run is replayed after a restart, and the gate decides the same way.
    """

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


_ERROR_TYPES: dict[str, type[ModelError]] = {}


def replayed_model_error(type_name: str, message: str) -> ModelError:
    """A ModelError whose type name is the original's, so the loop's error text is identical."""
    cls = _ERROR_TYPES.get(type_name)
    if cls is None:
        cls = type(type_name, (ModelError,), {"__module__": __name__})
        _ERROR_TYPES[type_name] = cls
    return cls(message)


class DurableModel:
    """A Model whose `complete()` is a DBOS step; outside a workflow it is a plain call."""

    def __init__(self, inner: Model, *, lane: str = "", clock: StepClock | None = None) -> None:
        self.inner = inner
        self.lane = lane
        self.clock = clock or StepClock()

    @property
    def model_id(self) -> str:
        """The wrapped model's id."""
        return self.inner.model_id

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Return the recorded response for this step, or call the model and record it."""
        name = f"model{self.lane}#{request.round}"
        ran: list[bool] = []
        data: dict[str, Any] = await DBOS.run_step_async({"name": name}, self._call, request, ran)
        self.clock.now = float(data["at"])
        sink = RETRY_SINK.get()
        if not ran and sink is not None:  # replayed: show the retries the first run made
            for info in data.get("retries", ()):
                sink(RetryInfo(**info))
        if "error" in data:
            raise replayed_model_error(data["error_type"], data["error"])
        return ModelResponse.model_validate(data["response"])

    async def _call(self, request: ModelRequest, ran: list[bool]) -> dict[str, Any]:
        """The step body: the real call, its retries and its outcome as plain data."""
        ran.append(True)
        retries: list[dict[str, Any]] = []
        outer = RETRY_SINK.get()

        def collect(info: RetryInfo) -> None:
            retries.append(
                {
                    "attempt": info.attempt,
                    "error": info.error,
                    "wait_s": info.wait_s,
                    "status": info.status,
                }
            )
            if outer is not None:
                outer(info)

        token = RETRY_SINK.set(collect)
        try:
            response = await self.inner.complete(request)
        except Exception as exc:
            return {
                "error_type": type(exc).__name__,
                "error": str(exc),
                "retries": retries,
                "at": time.time(),
            }
        finally:
            RETRY_SINK.reset(token)
        return {
            "response": response.model_dump(mode="json"),
            "retries": retries,
            "at": time.time(),
        }


def _lane(ctx: ToolContext) -> str:
    """The sub-agent path inside a run (`/call_3`), empty for the run itself."""
    _, sep, rest = ctx.run_id.partition("/")
    return f"/{rest}" if sep else ""


def durable_tool(spec: AnyToolSpec) -> AnyToolSpec:
    """The same tool, its handler run as a DBOS step recording the ToolResult."""

    async def run(ctx: ToolContext, payload: BaseModel) -> dict[str, Any]:
        result = await execute(spec, ctx, payload)
        return {"success": result.success, "message": result.message, "data": result.data}

    async def handler(ctx: ToolContext, payload: BaseModel) -> ToolResult:
        name = f"tool{_lane(ctx)}:{spec.name}:{ctx.call_id}"
        data: dict[str, Any] = await DBOS.run_step_async({"name": name}, run, ctx, payload)
        return ToolResult(success=data["success"], message=data["message"], data=data["data"])

    return replace(spec, handler=handler, timeout_s=spec.timeout_s + STEP_TIMEOUT_MARGIN_S)


def durable_registry(registry: ToolRegistry) -> ToolRegistry:
    """A registry whose every handler runs as a DBOS step (names, schemas and hints kept)."""
    return ToolRegistry(durable_tool(spec) for spec in registry)


def durable_input(
    inp: PlannerLoopInput, model_for_subagent: Model, kinds: Sequence[SubAgentSpec] = ()
) -> PlannerLoopInput:
    """Make a loop input replay-safe: durable models everywhere, a recorded gate clock, and
    the sub-agent `kinds` offered over durable models.

    Parallel nested runs interleave their steps by timing, which a positional replay cannot
    follow, so `nested_run` calls run one at a time; other parallel-safe reads still run together.
    """
    clock = StepClock()
    assert isinstance(inp.model, DurableModel)
    inp.model.clock = clock
    if inp.policy is not None:
        inp.policy.clock = clock
    models = {s.name: s.model for s in kinds}

    def subagent_model(kind: str, path: str) -> Model:
        return DurableModel(models.get(kind) or model_for_subagent, lane=f"/{path}", clock=clock)

    base = inp.is_parallel_safe
    safe = base
    if base is not None:
        safe = lambda spec: not spec.nested_run and base(spec)  # noqa: E731
    return with_subagents(replace(inp, is_parallel_safe=safe), kinds, subagent_model)


# --- the engine ----------------------------------------------------------------------------


class MissionEngine(Protocol):
    """Runs missions durably and keeps their schedules; DBOS is the one implementation."""

    def launch(self) -> None:
        """Connect, migrate and recover this worker's unfinished runs."""
        ...

    def shutdown(self) -> None:
        """Stop background work and disconnect."""
        ...

    async def run(
        self,
        cfg: MissionConfig,
        *,
        run_id: str | None = None,
        model_spec: str | None = None,
        space_id: str | None = None,
        mission_path: Path | None = None,
        on_event: EventSink | None = None,
    ) -> MissionRun:
        """Run a mission to its end (or resume the run with this id) and return it."""
        ...

    def schedule(self, paths: list[Path], *, missed: Missed, concurrency: int) -> list[str]:
        """Install the schedules of these mission files; returns the scheduled mission ids."""
        ...

    def pause(self, mission_id: str) -> None:
        """Stop a mission's schedule from firing (on every worker)."""
        ...

    def resume(self, mission_id: str) -> None:
        """Let a paused mission's schedule fire again."""
        ...


class RunRequest(BaseModel):
    """What a run workflow is started with: plain data, so any worker can recover it."""

    mission: dict[str, Any]
    mission_path: str | None = None
    model_spec: str | None = None
    space_id: str | None = None
    runs_dir: str = "runs"


@dataclass(frozen=True)
class RunStart:
    """A run that has begun, as the `run_started` hook sees it."""

    run_id: str
    mission_id: str
    started_at: float
    model_id: str
    transcript_path: Path


class MissionEnv(Protocol):
    """What a run needs from the application: tools, a space, and where runs are recorded.

    `space_for`, `run_started` and `run_finished` run as DBOS steps: once per run.
    """

    def tools_for(
        self, cfg: MissionConfig, mission_path: Path | None
    ) -> AbstractAsyncContextManager[ToolRegistry]:
        """The tools this mission may see (already selected for it), usable inside the block."""
        ...

    async def space_for(self, cfg: MissionConfig) -> str:
        """The space the run acts in when the mission names none."""
        ...

    async def run_started(self, start: RunStart) -> None:
        """Record that a run began."""
        ...

    async def run_finished(self, run: MissionRun) -> None:
        """Record a finished run."""
        ...


EnvFactory = Callable[[], AbstractAsyncContextManager[MissionEnv]]
"""Opens the environment for one run execution, in the event loop that executes it."""


@dataclass
class StaticEnv:
    """A fixed tool registry, `personal:<user>` spaces, nothing recorded: tests and demos."""

    tools: ToolRegistry
    finished: list[MissionRun] = field(default_factory=list)

    @asynccontextmanager
    async def tools_for(
        self, cfg: MissionConfig, mission_path: Path | None
    ) -> AsyncIterator[ToolRegistry]:
        """The registry's tools that the mission's patterns select."""
        yield self.tools.filter(lambda spec: cfg.selects(spec.name))

    async def space_for(self, cfg: MissionConfig) -> str:
        """The mission's user's personal space."""
        return f"personal:{cfg.user_id}"

    async def run_started(self, start: RunStart) -> None:
        """Nothing to record."""

    async def run_finished(self, run: MissionRun) -> None:
        """Keep the run in memory."""
        self.finished.append(run)

    def factory(self) -> EnvFactory:
        """An EnvFactory handing out this environment."""

        @asynccontextmanager
        async def open_env() -> AsyncIterator[MissionEnv]:
            yield self

        return open_env


@dataclass
class DBOSEngine:
    """The DBOS MissionEngine: one per process (DBOS itself is a process-wide singleton)."""

    env: EnvFactory
    """Opens tools, space lookup and run recording for each run execution."""
    db_url: str | None = None
    """System database; None means $MANA_DATABASE_URL, else SQLite under `var_dir`."""
    runs_dir: Path = Path("runs")
    var_dir: Path = DEFAULT_VAR_DIR
    model_for: ModelFactory = from_spec
    """Builds a model from a spec string (tests point it at a local fake server)."""
    executor: str | None = None
    log_level: str = field(default_factory=lambda: os.environ.get(DBOS_LOG_ENV, "WARNING"))
    """DBOS's own log level ($MANA_DBOS_LOG_LEVEL, default WARNING)."""
    scheduler_poll_s: float = 5.0
    """How often workers look for new, changed or paused schedules."""
    _sinks: dict[str, EventSink] = field(default_factory=dict, repr=False)

    @classmethod
    def with_tools(cls, tools: ToolRegistry, **options: Any) -> DBOSEngine:
        """An engine over a fixed registry (StaticEnv)."""
        return cls(StaticEnv(tools).factory(), **options)

    @property
    def url(self) -> str:
        """The system database URL DBOS uses."""
        return system_database_url(self.db_url, self.var_dir)

    def config(self) -> DBOSConfig:
        """The DBOS configuration for this engine."""
        return {
            "name": APP_NAME,
            "system_database_url": self.url,
            "executor_id": self.executor or executor_id(),
            "log_level": self.log_level,
            "scheduler_polling_interval_sec": self.scheduler_poll_s,
        }

    # lifecycle

    def launch(self) -> None:
        """Start DBOS; pending runs of this executor resume in the background."""
        global _ACTIVE
        if _ACTIVE is not None and _ACTIVE is not self:
            raise RuntimeError("another DBOSEngine is running in this process")
        _ACTIVE = self
        try:
            DBOS(config=self.config())
            DBOS.launch()
        except BaseException:
            _ACTIVE = None
            DBOS.destroy()
            raise

    def shutdown(self, wait_s: int = 0) -> None:
        """Stop DBOS (waiting up to `wait_s` for running workflows) and forget the engine."""
        global _ACTIVE
        DBOS.destroy(workflow_completion_timeout_sec=wait_s)
        if _ACTIVE is self:
            _ACTIVE = None

    def __enter__(self) -> DBOSEngine:
        self.launch()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.shutdown()

    # runs

    async def run(
        self,
        cfg: MissionConfig,
        *,
        run_id: str | None = None,
        model_spec: str | None = None,
        space_id: str | None = None,
        mission_path: Path | None = None,
        on_event: EventSink | None = None,
    ) -> MissionRun:
        """Run a mission as the workflow `run_id`; an unfinished run with that id resumes and a
        finished one returns its recorded result without running anything."""
        rid = run_id or new_run_id()
        request = RunRequest(
            mission=cfg.model_dump(mode="json"),
            mission_path=str(mission_path) if mission_path else None,
            model_spec=model_spec,
            space_id=space_id,
            runs_dir=str(self.runs_dir),
        )
        if on_event is not None:
            self._sinks[rid] = on_event
        try:
            with SetWorkflowID(rid):
                result: MissionRun = await _mission_workflow(request.model_dump(mode="json"))
        finally:
            self._sinks.pop(rid, None)
        return result

    async def execute(self, request: RunRequest, run_id: str) -> MissionRun:
        """The workflow body: the mission's loop over a durable model and durable tools."""
        try:
            cfg = MissionConfig.model_validate(request.mission)
        except ValidationError as exc:
            raise ValueError(f"run {run_id}: recorded mission is not valid: {exc}") from exc
        model = self.model_for(request.model_spec or cfg.model)
        path = Path(request.runs_dir) / cfg.id / f"{run_id}.jsonl"
        mission_path = Path(request.mission_path) if request.mission_path else None
        async with self.env() as env:
            space = request.space_id or cfg.space_id
            if space is None:
                space = await DBOS.run_step_async({"name": "run.space"}, env.space_for, cfg)

            async def started() -> float:
                now = time.time()
                await env.run_started(RunStart(run_id, cfg.id, now, model.model_id, path))
                return now

            started_at: float = await DBOS.run_step_async({"name": "run.started"}, started)
            async with env.tools_for(cfg, mission_path) as tools:
                with (
                    FileTranscript(path) as file,
                    structlog.contextvars.bound_contextvars(mission=cfg.id),
                ):
                    inp = build_input(
                        cfg,
                        durable_registry(tools),
                        DurableModel(model),
                        run_id,
                        space,
                        TeeTranscript(file, self._sinks.get(run_id)),
                        mission_path,
                    )
                    kinds = subagent_specs(cfg)
                    result = await run_planner_loop(durable_input(inp, model, kinds))
            run = MissionRun(run_id, cfg.id, result, path, started_at, time.time(), model.model_id)
            await DBOS.run_step_async({"name": "run.finished"}, env.run_finished, run)
        return run

    async def execute_scheduled(self, scheduled_at: datetime, context: dict[str, Any]) -> None:
        """A schedule's firing: load the mission file now and run it as this workflow."""
        run_id = DBOS.workflow_id
        assert run_id is not None
        path = Path(str(context["path"]))
        cfg = load_mission(path)
        request = RunRequest(
            mission=cfg.model_dump(mode="json"),
            mission_path=str(path),
            runs_dir=str(self.runs_dir),
        )
        await self.execute(request, run_id)

    # schedules

    def schedule(self, paths: list[Path], *, missed: Missed, concurrency: int) -> list[str]:
        """Install the schedules of these mission files (see missions.schedule)."""
        from missions.schedule import install_schedules

        return install_schedules(paths, missed=missed, concurrency=concurrency)

    def pause(self, mission_id: str) -> None:
        """Pause a mission's schedule."""
        from missions.schedule import set_paused

        set_paused(self.url, mission_id, paused=True)

    def resume(self, mission_id: str) -> None:
        """Resume a mission's schedule."""
        from missions.schedule import set_paused

        set_paused(self.url, mission_id, paused=False)


_ACTIVE: DBOSEngine | None = None


def active_engine() -> DBOSEngine:
    """The engine of this process, which workflows (and recovered workflows) run with."""
    if _ACTIVE is None:
        raise RuntimeError("no DBOSEngine is launched in this process")
    return _ACTIVE


@DBOS.workflow(name="mana.mission_run")
async def _mission_workflow(request: dict[str, Any]) -> MissionRun:
    run_id = DBOS.workflow_id
    assert run_id is not None
    return await active_engine().execute(RunRequest.model_validate(request), run_id)


@DBOS.workflow(name="mana.scheduled_run")
async def scheduled_workflow(scheduled_at: datetime, context: dict[str, Any]) -> None:
    """The workflow every mission schedule fires; its id (the run id) is per slot."""
    await active_engine().execute_scheduled(scheduled_at, context)


async def run_durable(
    cfg: MissionConfig,
    registry: ToolRegistry,
    *,
    run_id: str | None = None,
    runs_dir: Path = Path("runs"),
    model_spec: str | None = None,
    mission_path: Path | None = None,
    space_id: str | None = None,
    db_url: str | None = None,
    on_event: EventSink | None = None,
) -> MissionRun:
    """Launch a DBOS engine over `registry`, run (or resume) one mission, shut down.

    The run's executor is `run:<run id>`: calling again with the id of a killed run resumes it.
    """
    run_id = run_id or new_run_id()
    engine = DBOSEngine.with_tools(registry, db_url=db_url, runs_dir=runs_dir)
    return await run_once(
        engine,
        cfg,
        run_id=run_id,
        model_spec=model_spec,
        space_id=space_id,
        mission_path=mission_path,
        on_event=on_event,
    )


async def run_once(
    engine: DBOSEngine,
    cfg: MissionConfig,
    *,
    run_id: str,
    model_spec: str | None = None,
    space_id: str | None = None,
    mission_path: Path | None = None,
    on_event: EventSink | None = None,
) -> MissionRun:
    """Launch `engine` as the executor `run:<run id>`, run (or resume) one mission, shut down.

    Owning the run by that executor means only running the same id again recovers a killed
    run, and no scheduler worker picks it up.
    """
    engine.executor = f"run:{run_id}"
    await anyio.to_thread.run_sync(engine.launch)
    try:
        return await engine.run(
            cfg,
            run_id=run_id,
            model_spec=model_spec,
            space_id=space_id,
            mission_path=mission_path,
            on_event=on_event,
        )
    finally:
        await anyio.to_thread.run_sync(engine.shutdown)
