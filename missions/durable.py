"""The durable engine: a mission run is a DBOS workflow, every model call and tool call a step.

`DBOSEngine` launches DBOS for this process in one of two roles:

- a **worker** (`mana-planner schedule`) joins the application `mana-planner`: it fires the
  mission schedules, dequeues the queue `mana-missions`, heartbeats, and takes over the runs
  of a worker whose heartbeat stopped;
- a **run** (`mana-planner run`, `run_durable`) is a DBOS application of its own
  (`mana-planner-run-<run id>`, executor `run:<run id>`): it sees no schedule and no queue, so
  it executes only the run it started, and running the same id again resumes it.

What a step is lives in `missions.durable_steps`, the workflows in `missions.workflows`, the
schedules in `missions.schedule` and `missions.schedule_dbos`, heartbeats and take-over in
`missions.heartbeat`.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import structlog
from dbos import DBOS, DBOSConfig, SetWorkflowID
from pydantic import ValidationError

from missions.config import MissionConfig, load_mission
from missions.dbos_host import HOST, LISTENER_POLL_S
from missions.dbos_settings import sync_commit_from_env, system_db_engine_kwargs
from missions.durable_steps import (
    DurableModel,
    StepHistory,
    StepRunner,
    durable_input,
    durable_registry,
)
from missions.engine_types import (
    EnvFactory,
    Missed,
    MissionEnv,
    ModelFactory,
    RunRequest,
    RunStart,
    StaticEnv,
)
from missions.errors import RecordedRunError
from missions.heartbeat import (
    DEFAULT_RECOVER_AFTER_S,
    BeatStore,
    Heartbeat,
    Role,
    heartbeat_interval,
)
from missions.runner import (
    EventSink,
    MissionRun,
    TeeTranscript,
    build_input,
    new_run_id,
    span_sink,
)
from missions.shielding import shielded_exit
from missions.subagents import subagent_specs
from missions.system_db import (
    APP_NAME,
    DBOS_LOG_ENV,
    DEFAULT_VAR_DIR,
    MISSION_QUEUE,
    executor_id,
    system_database_url,
)
from missions.workflows import current_run_id, mission_workflow
from planner import FileTranscript, ToolRegistry, from_spec, resolve_spec, run_planner_loop


def run_app_name(run_id: str) -> str:
    """The DBOS application of one `run` process: a legal name, unique per run id."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", run_id.lower())[:80]
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:10]
    return f"{APP_NAME}-run-{slug}-{digest}"


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
    sync_commit: bool | None = field(default_factory=sync_commit_from_env)
    """Every system-database commit waits for the disk ($MANA_DBOS_SYNC_COMMIT; see
    missions.dbos_settings for what the default keeps and what it gives up)."""
    scheduler_poll_s: float = 5.0
    """How often workers look for new, changed or paused schedules."""
    role: Role = "worker"
    app_name: str = APP_NAME
    queues: tuple[str, ...] = (MISSION_QUEUE,)
    """The queues this process dequeues from (a run process: none)."""
    heartbeat_s: float = field(default_factory=heartbeat_interval)
    recover_after_s: float | None = DEFAULT_RECOVER_AFTER_S
    """A worker takes over the runs of a worker whose heartbeat is older (None: never)."""
    _sinks: dict[str, EventSink] = field(default_factory=dict, repr=False)
    _beat: Heartbeat | None = field(default=None, repr=False)
    _history: StepHistory | None = field(default=None, repr=False)

    @classmethod
    def with_tools(cls, tools: ToolRegistry, **options: Any) -> DBOSEngine:
        """An engine over a fixed registry (StaticEnv)."""
        return cls(StaticEnv(tools).factory(), **options)

    @property
    def url(self) -> str:
        """The system database URL DBOS uses."""
        return system_database_url(self.db_url, self.var_dir)

    @property
    def executor_id(self) -> str:
        """This process's DBOS executor id."""
        return self.executor or executor_id()

    def config(self) -> DBOSConfig:
        """The DBOS configuration for this engine."""
        return {
            "name": self.app_name,
            "system_database_url": self.url,
            "executor_id": self.executor_id,
            "log_level": self.log_level,
            "scheduler_polling_interval_sec": self.scheduler_poll_s,
            "notification_listener_polling_interval_sec": LISTENER_POLL_S,
            "db_engine_kwargs": system_db_engine_kwargs(self.url, sync_commit=self.sync_commit),
        }

    def for_app(self, app_name: str, queues: tuple[str, ...]) -> DBOSEngine:
        """Make this a worker of another DBOS application (persona workers have their own)."""
        self.role, self.app_name, self.queues = "worker", app_name, queues
        return self

    def as_run(self, run_id: str) -> DBOSEngine:
        """Make this the engine of one `run` process: its own application, no queue."""
        self.role, self.executor = "run", f"run:{run_id}"
        self.app_name, self.queues, self.recover_after_s = run_app_name(run_id), (), None
        return self

    # lifecycle

    def launch(self) -> None:
        """Start DBOS and the heartbeat; pending runs of this executor resume in the background."""
        HOST.attach(self)
        try:
            DBOS(config=self.config())
            DBOS.listen_queues(list(self.queues))
            DBOS.launch()
            self._history = StepHistory(self.url, self.app_name)
            self._beat = self._heartbeat()
            self._beat.start()
        except BaseException:
            HOST.detach(self)
            DBOS.destroy()
            raise

    def _heartbeat(self) -> Heartbeat:
        def recover(dead: str) -> int:
            return len(DBOS._recover_pending_workflows([dead]))

        return Heartbeat(
            BeatStore(self.url),
            self.executor_id,
            self.app_name,
            self.role,
            interval_s=self.heartbeat_s,
            recover_after_s=self.recover_after_s if self.role == "worker" else None,
            recover=recover,
        )

    def shutdown(self, wait_s: int = 0) -> None:
        """Stop DBOS (waiting up to `wait_s` for running workflows) and forget the engine."""
        beat, self._beat = self._beat, None
        history, self._history = self._history, None
        try:
            if beat is not None:
                beat.stop()
            if history is not None:
                history.close()
        finally:
            DBOS.destroy(workflow_completion_timeout_sec=wait_s)
            HOST.detach(self)

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
                result: MissionRun = await mission_workflow(request.model_dump(mode="json"))
        finally:
            self._sinks.pop(rid, None)
        return result

    async def execute(self, request: RunRequest, run_id: str) -> MissionRun:
        """The workflow body, beating while it runs; a cancelled run is recorded interrupted."""
        try:
            cfg = MissionConfig.model_validate(request.mission)
        except ValidationError as exc:
            raise RecordedRunError(f"run {run_id}: recorded mission is not valid: {exc}") from exc
        beat = self._beat
        if beat is not None:
            await anyio.to_thread.run_sync(beat.track, run_id)
        try:
            async with shielded_exit(self.env()) as env:
                try:
                    return await self._execute(env, cfg, request, run_id)
                except anyio.get_cancelled_exc_class():
                    with anyio.CancelScope(shield=True):
                        await env.run_interrupted(run_id)
                    raise
        finally:
            if beat is not None:
                beat.untrack(run_id)

    async def _execute(
        self, env: MissionEnv, cfg: MissionConfig, request: RunRequest, run_id: str
    ) -> MissionRun:
        """The mission's loop over a durable model and durable tools, its record on each side."""
        steps = await self._history.runner_for(run_id) if self._history else StepRunner()
        mission_path = Path(request.mission_path) if request.mission_path else None
        base = mission_path.parent if mission_path else None
        spec = request.model_spec or resolve_spec(cfg.model, base)
        model = self.model_for(spec, **cfg.model_options.given())
        path = Path(request.runs_dir) / cfg.id / f"{run_id}.jsonl"
        space = request.space_id or cfg.space_id
        if space is None:

            async def space_step() -> str:
                return await env.space_for(cfg)

            space = await steps("run.space", space_step)

        async def started() -> float:
            now = time.time()
            await env.run_started(RunStart(run_id, cfg.id, now, model.model_id, path))
            return now

        started_at: float = await steps("run.started", started)
        async with env.tools_for(cfg, mission_path) as tools:
            with (
                FileTranscript(path) as file,
                structlog.contextvars.bound_contextvars(mission=cfg.id),
            ):
                inp = build_input(
                    cfg,
                    durable_registry(tools, steps),
                    DurableModel(model, steps=steps),
                    run_id,
                    space,
                    TeeTranscript(file, self._sinks.get(run_id), span_sink(cfg.id)),
                    mission_path,
                )
                kinds = subagent_specs(cfg)
                result = await run_planner_loop(durable_input(inp, model, kinds))
        run = MissionRun(run_id, cfg.id, result, path, started_at, time.time(), model.model_id)

        async def finished() -> None:
            await env.run_finished(run)

        await steps("run.finished", finished)
        return run

    async def execute_scheduled(self, scheduled_at: datetime, context: dict[str, Any]) -> None:
        """A schedule's firing: load the mission file now and run it as this workflow."""
        path = Path(str(context["path"]))
        cfg = load_mission(path)
        request = RunRequest(
            mission=cfg.model_dump(mode="json"),
            mission_path=str(path),
            runs_dir=str(self.runs_dir),
        )
        await self.execute(request, current_run_id())

    # schedules

    def schedule(self, paths: list[Path], *, missed: Missed, concurrency: int) -> list[str]:
        """Install the schedules of these mission files (see missions.schedule_dbos)."""
        from missions.schedule_dbos import install_schedules

        return install_schedules(paths, missed=missed, concurrency=concurrency)

    def pause(self, mission_id: str) -> None:
        """Pause a mission's schedule."""
        from missions.schedule_dbos import set_paused

        set_paused(self.url, mission_id, paused=True)

    def resume(self, mission_id: str) -> None:
        """Resume a mission's schedule."""
        from missions.schedule_dbos import set_paused

        set_paused(self.url, mission_id, paused=False)


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
    """Launch `engine` as the `run` process of `run_id`, run (or resume) it, shut down.

    Owning the run by that executor, in an application of its own, means only running the same
    id again recovers a killed run, and no worker (nor another run) ever picks it up.
    """
    engine.as_run(run_id)
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
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(engine.shutdown)
