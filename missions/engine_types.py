"""What the durable engine is given and what it promises: protocols and plain data.

Kept apart from the engine so the schedules, the workflows and the CLI can name these without
importing the engine (and DBOS's launch machinery) itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from missions.config import MissionConfig
from missions.runner import EventSink, MissionRun
from planner import Model, ToolRegistry

Missed = Literal["skip", "once"]
ModelFactory = Callable[..., Model]
"""(spec, **model_options) -> Model."""


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


class MissionEngine(Protocol):
    """Runs missions durably and keeps their schedules; DBOS is the one implementation."""

    @property
    def url(self) -> str:
        """The system database."""
        ...

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


class WorkflowEngine(Protocol):
    """What the DBOS workflows of this process run with (the launched engine)."""

    async def execute(self, request: RunRequest, run_id: str) -> MissionRun:
        """The body of one run workflow."""
        ...

    async def execute_scheduled(self, scheduled_at: datetime, context: dict[str, Any]) -> None:
        """The body of one schedule firing."""
        ...


class MissionEnv(Protocol):
    """What a run needs from the application: tools, a space, and where runs are recorded.

    `space_for`, `run_started` and `run_finished` run as DBOS steps: once per run.
    `run_interrupted` runs when a signal stops the run; it may run again on a later stop.
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

    async def run_interrupted(self, run_id: str) -> None:
        """Record that a run was stopped before its end (it can be resumed)."""
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
    interrupted: list[str] = field(default_factory=list)

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

    async def run_interrupted(self, run_id: str) -> None:
        """Keep the id in memory."""
        self.interrupted.append(run_id)

    async def run_finished(self, run: MissionRun) -> None:
        """Keep the run in memory."""
        self.finished.append(run)

    def factory(self) -> EnvFactory:
        """An EnvFactory handing out this environment."""

        @asynccontextmanager
        async def open_env() -> AsyncIterator[MissionEnv]:
            yield self

        return open_env
