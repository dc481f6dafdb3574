"""Console commands: `console`, `view`, `fork` and `diff`; heavy modules load inside each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_PORT = 8377


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def console_command(
    host: Annotated[str, typer.Option(help="Address to bind (local only by default)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port")] = DEFAULT_PORT,
    runs_dir: Annotated[Path, typer.Option(help="Where transcripts are")] = Path("runs"),
) -> None:
    """Serve the local run console: runs, run timelines, proposals and personas."""
    import uvicorn

    from console.app import create_app
    from missions import AppSettings

    typer.echo(f"console on http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(
        create_app(AppSettings.from_env(runs_dir)), host=host, port=port, log_level="warning"
    )


def view_command(
    transcript: Annotated[Path, typer.Argument(help="A transcript .jsonl file")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The HTML file to write")],
) -> None:
    """Write a run's page (timeline, sub-agents, drill-down) as one self-contained HTML file."""
    from console.runpage import render_run_page
    from console.sources import load_view
    from planner import PlannerError

    try:
        view = load_view(transcript)
    except PlannerError as exc:
        _fail(str(exc))
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_run_page(view, standalone=True), encoding="utf-8")
    typer.echo(str(out))


def fork_command(
    transcript: Annotated[Path, typer.Argument(help="The transcript to fork")],
    at: Annotated[int, typer.Option("--at", help="The first round that runs live")],
    model: Annotated[str | None, typer.Option(help="Model spec for the live rounds")] = None,
    system_prompt: Annotated[
        str | None, typer.Option(help="A new system prompt: TEXT, or @FILE")
    ] = None,
    live_tools: Annotated[bool, typer.Option(help="Run the real tools from ROUND on")] = False,
    allow_writes: Annotated[
        bool, typer.Option(help="With --live-tools, let write tools change data too")
    ] = False,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="The new transcript")] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where transcripts go")] = Path("runs"),
) -> None:
    """Replay a run up to ROUND from its recording, then go on live; print the new transcript."""
    import anyio

    from console.forking import fork_file
    from missions import AppSettings
    from planner import PlannerError

    try:
        done = anyio.run(
            lambda: fork_file(
                transcript,
                at,
                model_spec=model,
                system_prompt=system_prompt,
                live_tools=live_tools,
                out=out,
                allow_writes=allow_writes,
                settings=AppSettings.from_env(runs_dir),
            )
        )
    except PlannerError as exc:
        _fail(str(exc))
        return
    typer.echo(str(done.transcript_path))


def diff_command(
    a: Annotated[Path, typer.Argument(help="Transcript A")],
    b: Annotated[Path, typer.Argument(help="Transcript B")],
) -> None:
    """The first divergence of two runs, then each round side by side; exit 1 when they differ."""
    from console.diffview import print_diff
    from planner import PlannerError, diff_transcripts

    try:
        report = diff_transcripts(a, b)
    except PlannerError as exc:
        _fail(str(exc))
        return
    print_diff(report, str(a), str(b))
    if not report.identical:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add console, view, fork and diff to the root command."""
    app.command("console")(console_command)
    app.command("view")(view_command)
    app.command("fork")(fork_command)
    app.command("diff")(diff_command)
