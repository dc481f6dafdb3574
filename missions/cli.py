"""The `mana-planner` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.console import Console

from missions.config import load_mission, mission_files
from missions.errors import MissionConfigError
from missions.replaying import replay_file
from missions.runner import MissionRun, run_mission
from missions.summary import Progress, run_summary
from missions.tooling import available_tools
from planner import StopReason
from planner.errors import PlannerError
from planner.logging import configure_logging

DEMO_MISSION = Path("configs/missions/demo-briefing.toml")

app = typer.Typer(
    help="mana-planner: run, schedule and replay agent missions.", no_args_is_help=True
)
missions_app = typer.Typer(help="Mission files.", no_args_is_help=True)
app.add_typer(missions_app, name="missions")
console = Console()
err = Console(stderr=True)


@app.callback()
def main_options(
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "warning",
) -> None:
    """Options for every command."""
    configure_logging(log_level)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _run(path: Path, model: str | None, runs_dir: Path) -> MissionRun:
    cfg = load_mission(path)
    progress = Progress(console) if console.is_terminal else None
    return anyio.run(
        lambda: run_mission(
            cfg,
            available_tools(),
            runs_dir=runs_dir,
            model_spec=model,
            mission_path=path,
            on_event=progress,
        )
    )


@app.command()
def run(
    mission: Annotated[Path, typer.Argument(help="A mission TOML file")],
    model: Annotated[str | None, typer.Option(help="Model spec overriding the file's")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where transcripts go")] = Path("runs"),
) -> None:
    """Run a mission once and print its summary."""
    try:
        result = _run(mission, model, runs_dir)
    except PlannerError as exc:
        _fail(str(exc))
        return
    console.print(run_summary(result))
    if result.result.stop_reason is StopReason.MODEL_ERROR:
        raise typer.Exit(1)


@app.command()
def replay(
    transcript: Annotated[Path, typer.Argument(help="A transcript .jsonl file")],
    live_tools: Annotated[bool, typer.Option(help="Run the real tools again")] = False,
) -> None:
    """Re-run a transcript offline; print `identical` or the first divergence."""
    try:
        report = anyio.run(lambda: replay_file(transcript, live_tools))
    except PlannerError as exc:
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
def demo(
    runs_dir: Annotated[Path, typer.Option(help="Where transcripts go")] = Path("runs"),
) -> None:
    """Run the offline demo mission, show its summary, then replay it."""
    try:
        result = _run(DEMO_MISSION, None, runs_dir)
    except PlannerError as exc:
        _fail(str(exc))
        return
    console.print(run_summary(result))
    console.rule("replay")
    report = anyio.run(lambda: replay_file(result.transcript_path))
    if report.divergence is not None:
        _fail(f"replay diverged at {report.divergence.where}", 1)
    console.print(
        f"replay of {result.transcript_path}: identical ({report.requests_compared} requests)"
    )


@missions_app.command("validate")
def validate(
    target: Annotated[Path, typer.Argument(help="A mission file or a folder of them")] = Path(
        "configs/missions"
    ),
) -> None:
    """Check mission files; print every problem with file and field."""
    files = mission_files(target)
    if not files:
        _fail(f"{target}: no mission files")
    bad = 0
    for path in files:
        try:
            cfg = load_mission(path)
        except MissionConfigError as exc:
            bad += 1
            err.print(str(exc), markup=False, highlight=False)
            continue
        console.print(f"[green]ok[/] {path} ({cfg.id})", highlight=False)
    if bad:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="mana-planner")


if __name__ == "__main__":
    main()
