"""CLI commands for durable runs and workers: `schedule`, `workers`, `missions pause|resume`.

Mount them with `register(app, missions_app)`; `run_app_mission` is `mana-planner run` through
the durable engine, stopping cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import signal
import threading
import time
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated

import anyio
import typer
from rich.console import Console

from missions.app import AppSettings
from missions.app_env import app_engine
from missions.config import MissionConfig
from missions.durable import run_once
from missions.errors import MissionConfigError, RunInterruptedError, UnknownScheduleError
from missions.heartbeat import DEFAULT_RECOVER_AFTER_S, BeatStore, WorkerRow, is_fresh
from missions.runner import EventSink, MissionRun, new_run_id
from missions.runview import out_console
from missions.schedule import schedule_entries
from missions.schedule_dbos import DEFAULT_CONCURRENCY, serve, set_paused
from missions.system_db import safe_url, system_database_url

console = out_console()
err = Console(stderr=True, soft_wrap=True)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

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


def _system_url(db_url: str | None = None) -> str:
    settings = AppSettings.from_env()
    return system_database_url(db_url or settings.database_url, settings.var_dir)


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
    recover_after: Annotated[
        float,
        typer.Option(min=1.0, help="Take over a worker's runs once its heartbeat is this old (s)"),
    ] = DEFAULT_RECOVER_AFTER_S,
    runs_dir: Annotated[Path, typer.Option(help="Where transcripts go")] = Path("runs"),
    db_url: DbUrlOption = None,
) -> None:
    """Run a worker until interrupted: fire schedules, run queued runs, recover dead workers."""
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
    engine.recover_after_s = recover_after

    def ready(ids: list[str]) -> None:
        where = safe_url(engine.url)
        names = ", ".join(ids) or "none"
        console.print(
            f"worker {engine.executor_id}: scheduling {len(ids)} missions on {where}: {names}",
            highlight=False,
        )

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
    try:
        set_paused(_system_url(db_url), mission_id, paused=paused)
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


def worker_rows(rows: list[WorkerRow], in_flight: dict[str, int], now: float) -> list[list[str]]:
    """The `workers` table: executor, application, role, process, last beat, state, runs."""
    out = []
    for w in rows:
        age = now - w.beat_at
        if w.recovered_by:
            state = f"dead, recovered by {w.recovered_by}"
        else:
            state = "alive" if is_fresh(w.beat_at, now) else "dead"
        process = f"{w.host}:{w.pid}"
        runs = str(in_flight.get(w.executor_id, 0))
        out.append([w.executor_id, w.app_name, w.role, process, f"{age:.1f}s ago", state, runs])
    return out


def workers(db_url: DbUrlOption = None) -> None:
    """Workers and runs with a heartbeat: executor ids, last heartbeat, runs in flight."""
    from toolkits import print_table

    store = BeatStore(_system_url(db_url))
    try:
        rows, beats = store.workers(), store.run_beats()
    finally:
        store.close()
    in_flight: dict[str, int] = {}
    for beat in beats.values():
        in_flight[beat.executor_id] = in_flight.get(beat.executor_id, 0) + 1
    columns = ("executor", "application", "role", "process", "heartbeat", "state", "runs")
    print_table("Workers", columns, worker_rows(rows, in_flight, time.time()))


def register(app: typer.Typer, missions_app: typer.Typer) -> None:
    """Add `schedule` and `workers` to the main app and `pause` / `resume` to `missions`."""
    app.command("schedule")(schedule)
    app.command("workers")(workers)
    missions_app.command("pause")(pause)
    missions_app.command("resume")(resume)


def resume_command(
    mission_path: Path | None, run_id: str, model_spec: str | None, runs_dir: Path
) -> str:
    """The exact command that resumes an interrupted run."""
    words = ["mana-planner", "run", str(mission_path or "MISSION.toml"), "--run-id", run_id]
    if model_spec:
        words += ["--model", model_spec]
    if runs_dir != Path("runs"):
        words += ["--runs-dir", str(runs_dir)]
    return shlex.join(words)


class _DropCancelWarnings(logging.Filter):
    """DBOS warns once per cancelled task; an operator's interrupt is not worth three lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Asyncio task cancelled")


async def run_app_mission(
    settings: AppSettings,
    cfg: MissionConfig,
    *,
    mission_path: Path | None = None,
    model_spec: str | None = None,
    run_id: str | None = None,
    on_event: EventSink | None = None,
    stop_signals: tuple[signal.Signals, ...] = STOP_SIGNALS,
) -> MissionRun:
    """`mana-planner run` through the durable engine; `run_id` of a killed run resumes it.

    SIGINT or SIGTERM cancels the run: its record says `interrupted`, its transcript ends with
    the loop's last event, and RunInterruptedError carries the command that resumes it.
    """
    rid = run_id or new_run_id()
    got: list[int] = []
    scope = anyio.CancelScope()
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        got.append(signum)
        logging.getLogger("dbos").addFilter(_DropCancelWarnings())
        scope.cancel()

    for signum in stop_signals:
        loop.add_signal_handler(signum, on_signal, signum)
    run: MissionRun | None = None
    try:
        with scope:
            run = await run_once(
                app_engine(settings),
                cfg,
                run_id=rid,
                model_spec=model_spec,
                mission_path=mission_path,
                on_event=on_event,
            )
    finally:
        for signum in stop_signals:
            loop.remove_signal_handler(signum)
    if run is None:
        command = resume_command(mission_path, rid, model_spec, settings.runs_dir)
        raise RunInterruptedError(rid, command)
    return run
