"""`mana-planner personas ...`: validate, list, run, schedule, pause, resume, report, demo.

Mount with `register(app)`; errors of the packages are reported by the CLI root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from personas.cadence import due_personas, next_due
from personas.cli_support import (
    console,
    err,
    every_seconds,
    fail,
    load_configs,
    model_override,
    parse_policy_mode,
    print_sessions,
    run_work,
    runtime_url,
    select_personas,
    stop_on_signals,
    when,
    with_persona_store,
)
from personas.config import DEFAULT_DIR, PersonaConfig, load_personas, persona_files
from personas.errors import PersonaConfigError
from personas.report import load_report, render_html, table_rows
from personas.runtime import RuntimeOptions, default_settings, open_runtime, parse_since
from personas.scripted import DriverOptions, scripted_persona_model
from personas.session import PersonaRuntime, PersonaSession, default_model_for, run_sessions
from personas.store import ALL_PERSONAS, SqlPersonaStore
from planner import Model, PolicyMode
from toolkits import print_table

DEMO_PERSONAS = ("maya-freelancer", "tomas-club-treasurer", "ana-family-organiser")
DEMO_OPTIONS = {
    "maya-freelancer": DriverOptions(seed=1, bogus_once=True, bogus_id_rate=0.2),
    "tomas-club-treasurer": DriverOptions(seed=2, try_destructive=True),
    "ana-family-organiser": DriverOptions(seed=3, injection=True),
}

personas_app = typer.Typer(
    help="Persona simulations: simulated users of the app, through the MCP gateway.",
    no_args_is_help=True,
)

ConfigsOption = Annotated[Path, typer.Option("--configs", help="A persona file or folder")]
GatewayOption = Annotated[
    str | None,
    typer.Option("--gateway", help="Gateway URL; default: start one on loopback for the run"),
]
RunsDirOption = Annotated[Path, typer.Option(help="Where transcripts go")]


def register(app: typer.Typer) -> None:
    """Mount `personas ...` on the CLI root."""
    app.add_typer(personas_app, name="personas")


@personas_app.command("validate")
def validate_command(
    target: Annotated[Path, typer.Argument(help="A persona file or folder")] = DEFAULT_DIR,
) -> None:
    """Check persona files; print every problem with file, field and problem."""
    files = persona_files(target)
    if not files:
        fail(f"{target}: no persona files")
    bad = 0
    for path in files:
        try:
            cfg = load_personas(path)[0]
        except PersonaConfigError as exc:
            bad += 1
            err.print(str(exc), markup=False, highlight=False)
            continue
        console.print(
            f"[green]ok[/] {path} ({cfg.id}, {cfg.space_type}, {cfg.cadence})", highlight=False
        )
    if bad:
        raise typer.Exit(1)


@personas_app.command("list")
def list_command(configs: ConfigsOption = DEFAULT_DIR) -> None:
    """Personas with their space, cadence, last session and whether they are due now."""
    personas = load_configs(configs)
    settings = default_settings()

    async def read(store: SqlPersonaStore) -> tuple[dict[str, float], set[str]]:
        return await store.last_sessions(), await store.paused()

    last, paused = run_work(lambda: with_persona_store(settings, read))
    now = datetime.now(UTC)
    last_dt = {k: datetime.fromtimestamp(v, UTC) for k, v in last.items()}
    checks = due_personas(
        personas, last_dt, now, paused=paused - {ALL_PERSONAS}, all_paused=ALL_PERSONAS in paused
    )
    rows = []
    for p, c in zip(personas, checks, strict=True):
        upcoming = next_due(p.cadence, last_dt.get(p.id), now, p.zone)
        rows.append(
            (
                p.id,
                p.archetype,
                p.space_type,
                p.cadence,
                when(last.get(p.id)),
                "yes" if c.due else f"no ({c.reason})",
                "-" if c.reason == "paused" else when(upcoming.timestamp()),
            )
        )
    columns = ("persona", "archetype", "space", "cadence", "last session", "due", "next due")
    print_table("Personas", columns, rows)


@personas_app.command("run")
def run_command(
    ids: Annotated[list[str] | None, typer.Argument(help="Persona ids")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Run every persona")] = False,
    concurrency: Annotated[int, typer.Option(min=1, help="Sessions at a time")] = 2,
    gateway: GatewayOption = None,
    model: Annotated[str | None, typer.Option(help="Model spec for every persona")] = None,
    policy_mode: Annotated[
        str | None, typer.Option(help="Loopback gateway's policy mode (default POLICY_MODE)")
    ] = None,
    configs: ConfigsOption = DEFAULT_DIR,
    runs_dir: RunsDirOption = Path("runs"),
) -> None:
    """Run persona sessions now, through the MCP gateway; each ends with a rating turn."""
    personas = load_configs(configs)
    if all_ == bool(ids):
        fail("name persona ids or pass --all (not both)")
    chosen = personas if all_ else select_personas(personas, ids or [])
    options = RuntimeOptions(
        default_settings(runs_dir),
        gateway_url=gateway,
        policy_mode=parse_policy_mode(policy_mode),
        model_for=model_override(model) or default_model_for,
    )

    async def go() -> list[PersonaSession]:
        async with open_runtime(options) as rt:
            return await run_sessions(chosen, rt, concurrency=concurrency)

    sessions = run_work(go)
    print_sessions(sessions)
    if any(s.record.stop_reason == "session_error" for s in sessions):
        raise typer.Exit(1)


@personas_app.command("schedule")
def schedule_command(
    every: Annotated[str, typer.Option(help="How often to look for due personas")] = "5m",
    concurrency: Annotated[int, typer.Option(min=1, help="Sessions at a time per tick")] = 2,
    gateway: GatewayOption = None,
    model: Annotated[str | None, typer.Option(help="Model spec for every persona")] = None,
    configs: ConfigsOption = DEFAULT_DIR,
    runs_dir: RunsDirOption = Path("runs"),
    db_url: Annotated[
        str | None, typer.Option("--db-url", help="DBOS system database (default as missions)")
    ] = None,
) -> None:
    """Run due personas by cadence on the missions' DBOS machinery, until interrupted."""
    from contextlib import asynccontextmanager

    from missions import app_engine, safe_url
    from personas.gateway import loopback_gateway
    from personas.runtime import gateway_settings
    from personas.schedule import PersonaScheduler, serve

    load_configs(configs)
    every_s = every_seconds(every)
    settings = default_settings(runs_dir)
    model_for = model_override(model) or default_model_for
    stop = stop_on_signals()

    def start(url: str) -> None:
        @asynccontextmanager
        async def runtime() -> AsyncIterator[PersonaRuntime]:
            options = RuntimeOptions(settings, gateway_url=url, model_for=model_for)
            async with open_runtime(options) as rt:
                yield rt

        scheduler = PersonaScheduler(runtime, configs, concurrency)
        engine = app_engine(settings, db_url)

        def ready(cron: str) -> None:
            console.print(
                f"persona schedule on {safe_url(engine.url)}: every {every} ({cron}), "
                f"concurrency {concurrency}, gateway {url}",
                highlight=False,
            )

        serve(engine, scheduler, every_s=every_s, stop=stop, on_ready=ready)

    try:
        if gateway is not None:
            start(gateway)
        else:
            with loopback_gateway(gateway_settings(settings)) as thread:
                start(thread.mcp_url)
    except ValueError as exc:
        fail(str(exc))


def _switch(persona_id: str | None, all_: bool, paused: bool, configs: Path) -> None:
    if all_ == (persona_id is not None):
        fail("name one persona id or pass --all")
    key = ALL_PERSONAS if all_ else str(persona_id)
    if not all_:
        select_personas(load_configs(configs), [key])
    settings = default_settings()

    async def flip(store: SqlPersonaStore) -> None:
        await store.set_paused(key, paused)

    run_work(lambda: with_persona_store(settings, flip))
    who = "all personas" if all_ else key
    console.print(f"{who}: {'paused' if paused else 'resumed'}", highlight=False)


@personas_app.command("pause")
def pause_command(
    persona_id: Annotated[str | None, typer.Argument(metavar="[ID]")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Pause every persona")] = False,
    configs: ConfigsOption = DEFAULT_DIR,
) -> None:
    """Stop scheduled sessions of one persona (or all) on every worker, until resumed."""
    _switch(persona_id, all_, True, configs)


@personas_app.command("resume")
def resume_command(
    persona_id: Annotated[str | None, typer.Argument(metavar="[ID]")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Resume the all-personas switch")] = False,
    configs: ConfigsOption = DEFAULT_DIR,
) -> None:
    """Let a paused persona (or the all-personas switch) run on schedule again."""
    _switch(persona_id, all_, False, configs)


@personas_app.command("report")
def report_command(
    since: Annotated[
        str | None, typer.Option(help="Only sessions from this date on (YYYY-MM-DD)")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Write the HTML report with charts")] = None,
) -> None:
    """A table per persona (sessions, calls, errors, denials, ratings) and an HTML report."""
    try:
        cutoff = parse_since(since)
    except ValueError as exc:
        fail(f"--since {since!r}: {exc}")
        return
    settings = default_settings()
    data = run_work(lambda: with_persona_store(settings, lambda store: load_report(store, cutoff)))
    columns, rows = table_rows(data)
    print_table("Personas", columns, rows)
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(data), encoding="utf-8")
        console.print(f"report: {html}", highlight=False)


@personas_app.command("demo")
def demo_command(
    days: Annotated[int, typer.Option(min=1, help="Simulated days of sessions")] = 3,
    html: Annotated[Path, typer.Option(help="Where the HTML report goes")] = Path(
        "runs/personas/report.html"
    ),
    configs: ConfigsOption = DEFAULT_DIR,
    runs_dir: RunsDirOption = Path("runs"),
) -> None:
    """Three personas, scripted models, offline, through a loopback gateway; then the report."""
    chosen = select_personas(load_configs(configs), list(DEMO_PERSONAS))
    settings = default_settings(runs_dir)
    start = datetime.now(UTC) - timedelta(days=days - 1)
    day = {"at": start}

    def model_for(persona: PersonaConfig) -> Model:
        base = DEMO_OPTIONS.get(persona.id, DriverOptions())
        opts = DriverOptions(
            seed=base.seed * 100 + day["at"].day,
            try_destructive=base.try_destructive,
            bogus_id_rate=base.bogus_id_rate,
            injection=base.injection,
            bogus_once=base.bogus_once,
        )
        return scripted_persona_model(persona, opts)

    options = RuntimeOptions(
        settings,
        policy_mode=PolicyMode.ENFORCE,
        model_for=model_for,
        clock=lambda: day["at"].timestamp(),
    )

    async def go() -> list[PersonaSession]:
        done: list[PersonaSession] = []
        async with open_runtime(options) as rt:
            console.print(f"gateway on loopback: {runtime_url(rt)}", highlight=False)
            for d in range(days):
                day["at"] = start + timedelta(days=d)
                done += await run_sessions(chosen, rt, concurrency=2)
        return done

    sessions = run_work(go)
    print_sessions(sessions)
    data = run_work(lambda: with_persona_store(settings, lambda store: load_report(store)))
    columns, rows = table_rows(data)
    print_table("Personas", columns, rows)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(render_html(data), encoding="utf-8")
    console.print(f"report: {html}", highlight=False)
    if any(s.record.stop_reason == "session_error" for s in sessions):
        raise typer.Exit(1)
