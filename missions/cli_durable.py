"""CLI commands for durable runs and schedules: `schedule`, `missions pause`, `missions resume`.

Mount them into the main app with `register(app, missions_app)`; `run_command_engine()` gives
`mana-planner run` the engine it should run through.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from missions.app import App, AppSettings, open_app
from missions.config import MissionConfig
from missions.durable import (
    DBOSEngine,
    EnvFactory,
    MissionEnv,
    RunStart,
    run_once,
    system_database_url,
)
from missions.errors import MissionConfigError
from missions.runner import (
    EventSink,
    MissionRun,
    mission_tools,
    new_run_id,
    record_of,
    remote_tools,
)
from missions.schedule import (
    DEFAULT_CONCURRENCY,
    UnknownScheduleError,
    safe_url,
    schedule_entries,
    serve,
    set_paused,
)
from missions.store import RunRecord
from planner import ToolRegistry

console = Console()
err = Console(stderr=True, soft_wrap=True)

DbUrlOption = Annotated[
    str | None,
    typer.Option(
        "--db-url",
        help="System database (default: $MANA_DATABASE_URL, else SQLite under ./var/)",
    ),
]


class MissedPolicy(StrEnum):
    """What to do with slots missed while no scheduler ran."""

    skip = "skip"
    once = "once"


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def schedule(
    path: Annotated[Path, typer.Argument(help="A mission file or a folder of them")] = Path(
        "configs/missions"
    ),
    missed: Annotated[
        MissedPolicy, typer.Option(help="Missed slots: skip them, or run the latest once")
    ] = MissedPolicy.skip,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Scheduled runs in flight on this worker")
    ] = DEFAULT_CONCURRENCY,
    runs_dir: Annotated[Path, typer.Option(help="Where transcripts go")] = Path("runs"),
    db_url: DbUrlOption = None,
) -> None:
    """Run the scheduler until interrupted; start it on several machines to scale out."""
    try:
        schedule_entries(path)  # fail on a bad file before connecting
    except MissionConfigError as exc:
        _fail(str(exc))
    stop = threading.Event()

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    engine = app_engine(AppSettings.from_env(runs_dir), db_url)

    def ready(ids: list[str]) -> None:
        where = safe_url(engine.url)
        names = ", ".join(ids) or "none"
        console.print(f"scheduling {len(ids)} missions on {where}: {names}", highlight=False)

    try:
        serve(
            engine,
            [path],
            missed=missed.value,
            concurrency=concurrency,
            stop=stop,
            on_ready=ready,
        )
    except MissionConfigError as exc:
        _fail(str(exc))


def _set(mission_id: str, db_url: str | None, paused: bool) -> None:
    settings = AppSettings.from_env()
    url = system_database_url(db_url or settings.database_url, settings.var_dir)
    try:
        set_paused(url, mission_id, paused=paused)
    except UnknownScheduleError as exc:
        _fail(str(exc), 1)
    console.print(f"{mission_id}: {'paused' if paused else 'resumed'}", highlight=False)


def pause(
    mission_id: Annotated[str, typer.Argument(metavar="ID", help="The mission id")],
    db_url: DbUrlOption = None,
) -> None:
    """Stop a mission's schedule from firing, on every worker, until resumed."""
    _set(mission_id, db_url, paused=True)


def resume(
    mission_id: Annotated[str, typer.Argument(metavar="ID", help="The mission id")],
    db_url: DbUrlOption = None,
) -> None:
    """Let a paused mission's schedule fire again."""
    _set(mission_id, db_url, paused=False)


def register(app: typer.Typer, missions_app: typer.Typer) -> None:
    """Add `schedule` to the main app and `pause` / `resume` to `missions`."""
    app.command("schedule")(schedule)
    missions_app.command("pause")(pause)
    missions_app.command("resume")(resume)


@dataclass
class AppEnv:
    """The application's MissionEnv: its tools (plan-only aware), spaces and run store."""

    app: App

    @asynccontextmanager
    async def tools_for(
        self, cfg: MissionConfig, mission_path: Path | None
    ) -> AsyncIterator[ToolRegistry]:
        """The mission's tools (its MCP tool sources open meanwhile); plan-only proposes."""
        async with remote_tools(cfg, mission_path) as remote:
            yield mission_tools(cfg, self.app, mission_path, remote)

    async def space_for(self, cfg: MissionConfig) -> str:
        """The user's personal space."""
        return (await self.app.store.personal_space(cfg.user_id)).id

    async def run_started(self, start: RunStart) -> None:
        """A row for the run, not finished yet."""
        await self.app.runs.record_run(
            RunRecord(
                id=start.run_id,
                mission_id=start.mission_id,
                started_at=start.started_at,
                finished_at=None,
                stop_reason=None,
                rounds=0,
                tool_calls=0,
                input_tokens=0,
                output_tokens=0,
                cost_usd=0.0,
                model=start.model_id,
                transcript_path=str(start.transcript_path),
                error=None,
            )
        )

    async def run_finished(self, run: MissionRun) -> None:
        """The run's final row."""
        await self.app.runs.record_run(record_of(run))


def app_env(settings: AppSettings) -> EnvFactory:
    """Opens the app (store, vault, run store, tools) for each run execution."""

    @asynccontextmanager
    async def open_env() -> AsyncIterator[MissionEnv]:
        async with open_app(settings) as opened:
            yield AppEnv(opened)

    return open_env


def app_engine(settings: AppSettings, db_url: str | None = None) -> DBOSEngine:
    """The engine the CLI uses: the app's environment, its database and folders."""
    return DBOSEngine(
        app_env(settings),
        db_url=db_url or settings.database_url,
        runs_dir=settings.runs_dir,
        var_dir=settings.var_dir,
    )


async def run_app_mission(
    settings: AppSettings,
    cfg: MissionConfig,
    *,
    mission_path: Path | None = None,
    model_spec: str | None = None,
    run_id: str | None = None,
    on_event: EventSink | None = None,
) -> MissionRun:
    """`mana-planner run` through the durable engine; `run_id` of a killed run resumes it."""
    return await run_once(
        app_engine(settings),
        cfg,
        run_id=run_id or new_run_id(),
        model_spec=model_spec,
        mission_path=mission_path,
        on_event=on_event,
    )
