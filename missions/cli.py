"""The `mana-planner` command line."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
import typer
from rich.console import Console

from gateway.cli import register as register_gateway
from missions.app import App, AppSettings, open_app, tool_catalog
from missions.checks import preflight
from missions.cli_durable import register as register_durable
from missions.cli_durable import run_app_mission
from missions.cli_tools import register as register_tools
from missions.cli_tools import register_validate
from missions.config import load_mission
from missions.live import live_feed, streamed_options
from missions.planonly import approve, reject
from missions.replaying import replay_file
from missions.runner import MissionRun, with_model_options
from missions.scaffold import register as register_scaffold
from missions.shipped import DEMO_MISSION_ID, find_mission, shipped_mission
from missions.store import Proposal
from missions.summary import Progress, run_summary
from personas.cli import personas_app
from planner import StopReason
from planner.errors import PlannerError
from planner.logging import configure_logging
from planner.stream import with_deltas
from toolkits.cli import media_app, print_table, spaces_app
from toolkits.errors import StoreError, ToolkitError
from toolkits.seed import SeedSummary, seed_demo

DEMO_MISSION = shipped_mission(DEMO_MISSION_ID)
T = TypeVar("T")

app = typer.Typer(
    help="mana-planner: run, schedule and replay agent missions.", no_args_is_help=True
)
missions_app = typer.Typer(help="Mission files.", no_args_is_help=True)
runs_app = typer.Typer(help="Recorded mission runs.", no_args_is_help=True)
proposals_app = typer.Typer(help="Writes proposed by plan-only missions.", no_args_is_help=True)
app.add_typer(missions_app, name="missions")
app.add_typer(runs_app, name="runs")
app.add_typer(proposals_app, name="proposals")
register_validate(missions_app)
register_tools(app)
app.add_typer(media_app, name="media")
app.add_typer(spaces_app, name="spaces")
register_gateway(app)
register_durable(app, missions_app)
register_scaffold(app)
app.add_typer(personas_app, name="personas")
console = Console()
err = Console(stderr=True, soft_wrap=True)
RunsDir = Annotated[Path, typer.Option(help="Where transcripts go")]


@app.callback()
def main_options(
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "warning",
) -> None:
    """Options for every command."""
    configure_logging(log_level)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def with_app(work: Callable[[App], Awaitable[T]], runs_dir: Path = Path("runs")) -> T:
    """Open the app (store, vault, run store, tools), run `work`, close; errors exit 2."""

    async def go() -> T:
        async with open_app(AppSettings.from_env(runs_dir)) as opened:
            return await work(opened)

    try:
        return anyio.run(go)
    except (PlannerError, StoreError, ToolkitError) as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


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
    feed = live_feed(console.file, console.is_terminal) if stream else None
    progress = feed.event if feed else Progress(console) if console.is_terminal else None
    options = streamed_options(options) if stream else options
    settings = AppSettings.from_env(runs_dir)
    try:
        cfg, warnings = preflight(path, tool_catalog(settings.var_dir), model_override=model)
        for line in warnings:
            err.print(f"warning: {line}", markup=False, highlight=False)
        cfg = with_model_options(cfg, options, model)
        return anyio.run(
            lambda: with_deltas(
                feed,
                run_app_mission(
                    settings,
                    cfg,
                    mission_path=path,
                    model_spec=model,
                    run_id=run_id,
                    on_event=progress,
                ),
            )
        )
    except (PlannerError, StoreError, ToolkitError) as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _finish(run: MissionRun) -> None:
    console.print(run_summary(run))
    if run.result.stop_reason is StopReason.MODEL_ERROR:
        raise typer.Exit(1)


@app.command()
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
    path = find_mission(mission)
    _finish(_run_durable(path, model, run_id, runs_dir, model_option or [], stream))


@app.command()
def replay(
    transcript: Annotated[Path, typer.Argument(help="A transcript .jsonl file")],
    live_tools: Annotated[bool, typer.Option(help="Run the real read tools again")] = False,
    allow_writes: Annotated[
        bool, typer.Option(help="With --live-tools, run write and destructive tools too")
    ] = False,
) -> None:
    """Re-run a transcript offline; print `identical` or the first divergence."""
    try:
        report = anyio.run(
            lambda: replay_file(transcript, live_tools, AppSettings.from_env(), allow_writes)
        )
    except (PlannerError, StoreError, ToolkitError) as exc:
        _fail(str(exc), 2)
        return
    if report.divergence is None:
        console.print(f"identical ({report.requests_compared} requests)")
        return
    d = report.divergence
    console.print(f"[yellow]diverged[/] at {d.where}: {d.what}", highlight=False)
    console.print(d.diff, markup=False, highlight=False)
    raise typer.Exit(1)


@app.command()
def demo(runs_dir: RunsDir = Path("runs")) -> None:
    """Seed demo data, run the weekly-review mission offline, then replay its transcript."""

    async def seed(opened: App) -> SeedSummary:
        cfg = load_mission(DEMO_MISSION)
        return await seed_demo(
            opened.store, opened.vault, cfg.user_id, media_dir=opened.settings.var_dir / "media"
        )

    seeded = with_app(seed, runs_dir)
    console.print(
        f"demo data in {seeded.space_id}: {seeded.created} rows added, {seeded.credits} credits",
        highlight=False,
    )
    result = _run_durable(DEMO_MISSION, None, None, runs_dir)
    console.print(run_summary(result))
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
    records = with_app(lambda opened: opened.runs.list_runs(mission, limit))
    columns = ("run", "mission", "started (UTC)", "stop", "rounds", "calls", "tokens", "cost")
    rows = [
        (
            r.id,
            r.mission_id,
            _when(r.started_at),
            r.stop_reason or "running",
            str(r.rounds),
            str(r.tool_calls),
            str(r.input_tokens + r.output_tokens),
            f"${r.cost_usd:.4f}",
        )
        for r in records
    ]
    print_table("Mission runs", columns, rows)


@runs_app.command("show")
def runs_show(run_id: Annotated[str, typer.Argument(help="A run id")]) -> None:
    """One run in full."""
    record = with_app(lambda opened: opened.runs.get_run(run_id))
    if record is None:
        _fail(f"no run {run_id}", 1)
        return
    rows = [
        (key, _when(value) if key.endswith("_at") else str(value))
        for key, value in record.__dict__.items()
    ]
    print_table(f"Run {record.id}", ("field", "value"), rows)


def _print_proposals(items: list[Proposal]) -> None:
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
    p = with_app(lambda opened: approve(opened.runs, proposal_id, opened.tools))
    console.print(f"{p.id}: {p.status}", highlight=False)
    console.print_json(json.dumps(p.result))
    if p.status != "approved":
        raise typer.Exit(1)


@proposals_app.command("reject")
def proposals_reject(proposal_id: Annotated[str, typer.Argument(help="P-...")]) -> None:
    """Reject a pending proposal; nothing runs."""
    p = with_app(lambda opened: reject(opened.runs, proposal_id))
    console.print(f"{p.id}: {p.status}", highlight=False)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="mana-planner")


if __name__ == "__main__":
    main()
