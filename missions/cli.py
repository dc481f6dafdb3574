"""The missions' commands: run, replay, demo, `missions`, `runs` and `proposals`.

`register(app)` mounts them all (with the durable ones of missions/cli_durable.py);
`register_records(app)` only `runs` and `proposals`. Implementation modules are imported inside
the commands, so mounting them costs no more than importing typer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from missions.runview import out_console

if TYPE_CHECKING:
    from missions.app import App
    from missions.runner import MissionRun
    from missions.store import Proposal

T = TypeVar("T")

missions_app = typer.Typer(help="Mission files.", no_args_is_help=True)
runs_app = typer.Typer(help="Recorded mission runs.", no_args_is_help=True)
proposals_app = typer.Typer(help="Writes proposed by plan-only missions.", no_args_is_help=True)
console = out_console()
err = Console(stderr=True, soft_wrap=True)
RunsDir = Annotated[Path, typer.Option(help="Where transcripts go")]


def register(app: typer.Typer) -> None:
    """Mount every missions command on `app`: run, replay, demo, init, schedule and the groups."""
    from missions.cli_durable import register as register_durable
    from missions.cli_tools import register_validate
    from missions.scaffold import register as register_scaffold

    app.command()(run)
    app.command()(replay)
    app.command()(demo)
    app.add_typer(missions_app, name="missions")
    register_validate(missions_app)
    register_records(app)
    register_durable(app, missions_app)
    register_scaffold(app)


def register_records(app: typer.Typer) -> None:
    """Mount `runs` and `proposals`: reading the run store needs no durable engine."""
    app.add_typer(runs_app, name="runs")
    app.add_typer(proposals_app, name="proposals")


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def with_app(work: Callable[[App], Awaitable[T]], runs_dir: Path = Path("runs")) -> T:
    """Open the app (store, vault, run store, tools), run `work`, close it."""
    import anyio

    from missions.app import AppSettings, open_app

    async def go() -> T:
        async with open_app(AppSettings.from_env(runs_dir)) as opened:
            return await work(opened)

    return anyio.run(go)


def _run_durable(
    path: Path,
    model: str | None,
    run_id: str | None,
    runs_dir: Path,
    options: Sequence[str] = (),
    stream: bool = False,
) -> MissionRun:
    """Run a mission file as a durable DBOS workflow (resuming `run_id` if it was killed);
    `stream` prints it as it happens (missions/live.py)."""
    import anyio

    from missions.app import AppSettings, tool_catalog
    from missions.checks import preflight
    from missions.cli_durable import run_app_mission
    from missions.live import live_feed, streamed_options
    from missions.runner import with_model_options
    from missions.summary import Progress
    from planner import with_deltas

    feed = live_feed(console.file, console.is_terminal) if stream else None
    progress = feed.event if feed else Progress(console) if console.is_terminal else None
    options = streamed_options(options) if stream else options
    settings = AppSettings.from_env(runs_dir)
    cfg, warnings = preflight(path, tool_catalog(settings.var_dir), model_override=model)
    for line in warnings:
        err.print(f"warning: {line}", markup=False, highlight=False)
    cfg = with_model_options(cfg, options, model)
    return anyio.run(
        lambda: with_deltas(
            feed,
            run_app_mission(
                settings, cfg, mission_path=path, model_spec=model, run_id=run_id, on_event=progress
            ),
        )
    )


def _finish(run: MissionRun) -> None:
    from missions.runview import print_summary
    from planner import StopReason

    print_summary(run)
    if run.result.stop_reason is StopReason.MODEL_ERROR:
        raise typer.Exit(1)


def run(
    mission: Annotated[Path, typer.Argument(help="A mission TOML file, or a shipped one's id")],
    model: Annotated[str | None, typer.Option(help="Model spec overriding the file's")] = None,
    run_id: Annotated[
        str | None, typer.Option(help="Run id; the id of a killed run resumes it")
    ] = None,
    runs_dir: RunsDir = Path("runs"),
    model_option: Annotated[
        list[str] | None,
        typer.Option(help="KEY=VALUE over the file's [model_options] (repeatable)"),
    ] = None,
    stream: Annotated[
        bool, typer.Option("--stream", help="Print text as it arrives and each tool call")
    ] = False,
) -> None:
    """Run a mission once, durably, and print its summary."""
    from missions.shipped import find_mission

    path = find_mission(mission)
    _finish(_run_durable(path, model, run_id, runs_dir, model_option or [], stream))


def replay(
    transcript: Annotated[Path, typer.Argument(help="A transcript .jsonl file")],
    live_tools: Annotated[bool, typer.Option(help="Run the real read tools again")] = False,
    allow_writes: Annotated[
        bool, typer.Option(help="With --live-tools, run write and destructive tools too")
    ] = False,
) -> None:
    """Re-run a transcript offline; print `identical` or the first divergence."""
    import anyio

    from missions.app import AppSettings
    from missions.replaying import replay_file

    report = anyio.run(
        lambda: replay_file(transcript, live_tools, AppSettings.from_env(), allow_writes)
    )
    if report.divergence is None:
        console.print(f"identical ({report.requests_compared} requests)")
        return
    d = report.divergence
    console.print(f"[yellow]diverged[/] at {d.where}: {d.what}", highlight=False)
    console.print(d.diff, markup=False, highlight=False)
    raise typer.Exit(1)


def demo(runs_dir: RunsDir = Path("runs")) -> None:
    """Seed demo data, run the weekly-review mission offline, then replay its transcript."""
    import anyio

    from missions.config import load_mission
    from missions.replaying import replay_file
    from missions.runview import print_summary
    from missions.shipped import DEMO_MISSION_ID, shipped_mission
    from toolkits import SeedSummary, seed_demo

    demo_mission = shipped_mission(DEMO_MISSION_ID)

    async def seed(opened: App) -> SeedSummary:
        cfg = load_mission(demo_mission)
        return await seed_demo(
            opened.store, opened.vault, cfg.user_id, media_dir=opened.settings.var_dir / "media"
        )

    seeded = with_app(seed, runs_dir)
    console.print(
        f"demo data in {seeded.space_id}: {seeded.created} rows added, {seeded.credits} credits",
        highlight=False,
    )
    result = _run_durable(demo_mission, None, None, runs_dir)
    print_summary(result)
    console.rule("replay")
    report = anyio.run(lambda: replay_file(result.transcript_path))
    if report.divergence is not None:
        _fail(f"replay diverged at {report.divergence.where}", 1)
    compared = report.requests_compared
    console.print(f"replay of {result.transcript_path}: identical ({compared} requests)")


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


@runs_app.command("list")
def runs_list(
    mission: Annotated[str | None, typer.Option(help="Only this mission id")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
) -> None:
    """Recent runs: id, mission, times, stop reason, rounds, calls, tokens, cost."""
    from missions.app import AppSettings
    from missions.run_status import with_status
    from missions.runview import print_runs

    records = with_app(lambda opened: opened.runs.list_runs(mission, limit))
    print_runs(with_status(AppSettings.from_env(), records))


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="A run id")]) -> None:
    """One run as its live summary showed it: answer, rounds, tool calls, sub-agents, usage."""
    from missions.runview import print_run

    record = with_app(lambda opened: opened.runs.get_run(run_id))
    if record is None:
        _fail(f"no run {run_id}", 1)
        return
    from missions.app import AppSettings
    from missions.run_status import with_status
    from missions.runview import plain

    plain(console, f"status\t{with_status(AppSettings.from_env(), [record])[0].status}")
    print_run(record)


def _print_proposals(items: list[Proposal]) -> None:
    from toolkits import print_table

    columns = ("id", "status", "mission", "run", "tool", "arguments", "created (UTC)")
    rows = [
        (
            p.id,
            p.status,
            p.mission_id,
            p.run_id,
            p.tool,
            json.dumps(p.arguments, ensure_ascii=False)[:80],
            _when(p.created_at),
        )
        for p in items
    ]
    print_table("Proposals", columns, rows)


@proposals_app.command("list")
def proposals_list(
    status: Annotated[str | None, typer.Option(help="pending, approved, rejected, failed")] = None,
) -> None:
    """Proposals, oldest first."""
    items = with_app(lambda opened: opened.runs.list_proposals(status))  # type: ignore[arg-type]
    _print_proposals(items)


@proposals_app.command("show")
def proposals_show(proposal_id: Annotated[str, typer.Argument(help="P-...")]) -> None:
    """One proposal with its arguments and result."""
    p = with_app(lambda opened: opened.runs.get_proposal(proposal_id))
    _print_proposals([p])
    console.print_json(json.dumps({"arguments": p.arguments, "result": p.result}))


@proposals_app.command("approve")
def proposals_approve(proposal_id: Annotated[str, typer.Argument(help="P-...")]) -> None:
    """Run the proposed call as the mission's user, through the gate in enforce mode."""
    from missions.planonly import approve

    p = with_app(lambda opened: approve(opened.runs, proposal_id, opened.tools))
    console.print(f"{p.id}: {p.status}", highlight=False)
    console.print_json(json.dumps(p.result))
    if p.status != "approved":
        raise typer.Exit(1)


@proposals_app.command("reject")
def proposals_reject(proposal_id: Annotated[str, typer.Argument(help="P-...")]) -> None:
    """Reject a pending proposal; nothing runs."""
    from missions.planonly import reject

    p = with_app(lambda opened: reject(opened.runs, proposal_id))
    console.print(f"{p.id}: {p.status}", highlight=False)
