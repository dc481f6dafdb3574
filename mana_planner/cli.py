"""The `mana-planner` command: the one module that mounts every package's commands.

Each package exposes a `register(app)` that adds its commands to a typer app; the root lists
them here by name and help and imports a package only when one of its commands runs. Errors of
the packages end here too: one line on stderr, exit code 2.
"""

from __future__ import annotations

import gc
import sys
from typing import Annotated, Any, ClassVar

import typer
from typer import _click

from mana_planner import __version__
from mana_planner.lazy import LazyGroup, Mount

MISSIONS, DATA, SERVING, PERSONAS = "Missions", "App data", "Gateway", "Personas"


def _mounts(loader: str, panel: str, helps: dict[str, str]) -> tuple[Mount, ...]:
    return tuple(Mount(name, text, loader, panel) for name, text in helps.items())


MOUNTS = (
    *_mounts(
        "missions.cli:register",
        MISSIONS,
        {
            "run": "Run a mission once, durably, and print its summary.",
            "replay": "Re-run a transcript offline; print `identical` or the first divergence.",
            "demo": "Seed demo data, run the weekly-review mission offline, then replay its "
            "transcript.",
            "schedule": "Run a worker until interrupted: fire schedules, run queued runs, recover "
            "dead workers.",
            "workers": "Workers and runs with a heartbeat: executor ids, last heartbeat, runs in "
            "flight.",
            "missions": "Mission files.",
            "init": "Start a new project: a mission, its own tools, scripted steps and a passing "
            "test.",
        },
    ),
    *_mounts(
        "missions.cli:register_records",
        MISSIONS,
        {"runs": "Recorded mission runs.", "proposals": "Writes proposed by plan-only missions."},
    ),
    *_mounts(
        "missions.cli_tools:register",
        DATA,
        {"tools": "The app's tools, and the tools a mission sees."},
    ),
    *_mounts(
        "toolkits.cli:register",
        DATA,
        {
            "media": "Me-images: reference photos for image generation.",
            "spaces": "Spaces and memberships.",
        },
    ),
    *_mounts(
        "gateway.cli:register",
        SERVING,
        {
            "gateway": "Serve the app's tools over MCP Streamable HTTP (JWT auth, spaces, the "
            "policy gate).",
            "auth": "Identity for the MCP gateway.",
        },
    ),
    *_mounts(
        "console.cli:register",
        SERVING,
        {
            "console": "Serve the local run console: runs, run timelines, proposals and personas.",
            "view": "Write a run's page (timeline, sub-agents, drill-down) as one self-contained "
            "HTML file.",
            "fork": "Replay a run up to ROUND from its recording, then go on live; print the new "
            "transcript.",
            "diff": "The first divergence of two runs, then each round side by side; exit 1 when "
            "they differ.",
        },
    ),
    *_mounts(
        "personas.cli:register",
        PERSONAS,
        {"personas": "Persona simulations: simulated users of the app, through the MCP gateway."},
    ),
)
"""Every command of the root by loader; a new command is one line (its help as the command's)."""

ERROR_BASES = (
    ("planner.errors", "PlannerError"),
    ("missions.errors", "MissionError"),
    ("toolkits.errors", "ToolkitError"),
    ("toolkits.errors", "StoreError"),
    ("gateway.errors", "GatewayConfigError"),
    ("personas.errors", "PersonaError"),
)
"""The packages' error bases: what an operator reads as one line instead of a traceback."""


def known_error(exc: BaseException) -> bool:
    """True for an error of one of the packages; modules never imported cannot have raised."""
    bases = tuple(
        getattr(sys.modules[module], name)
        for module, name in ERROR_BASES
        if module in sys.modules and hasattr(sys.modules[module], name)
    )
    return isinstance(exc, bases)


def one_line(exc: BaseException) -> str:
    """The error's message on one line (a config error may list several fields)."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def start_collecting() -> None:
    """End of start-up: what is imported by now lives until exit, so freeze it out of every
    later collection, then let the collector run again (it is off while `main` imports)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


class RootGroup(LazyGroup):
    """The root: lazy mounts, and the packages' errors turned into one line and exit 2."""

    mounts: ClassVar[dict[str, Mount]] = {m.name: m for m in MOUNTS}

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        """Mount the command (importing its package), then collect garbage again."""
        try:
            return super().resolve_command(ctx, args)
        finally:
            start_collecting()

    def invoke(self, ctx: _click.Context) -> Any:
        """Run the command; a package error prints `error: ...` and exits 2."""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not known_error(exc):
                raise
            typer.echo(f"error: {one_line(exc)}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=RootGroup,
    help="mana-planner: run, schedule and replay agent missions.",
    no_args_is_help=True,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mana-planner {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error")] = "warning",
    log_content: Annotated[
        bool,
        typer.Option(
            "--log-content", help="Let logs hold message text, tool arguments and results"
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Options for every command."""
    from planner import configure_logging

    configure_logging(log_level, log_content=log_content)
    from missions import start_otlp_export

    start_otlp_export()


def main() -> None:
    """Console-script entry point."""
    # Imports make few cycles but many objects: without this, each full collection while
    # a command's package is imported walks every module object again (0.1-0.2 s each).
    gc.disable()
    try:
        app(prog_name="mana-planner")
    finally:
        # The process ends here: spare the interpreter's final collections over every
        # imported module's objects (1.5 s after a durable run on a loaded machine).
        gc.freeze()


if __name__ == "__main__":
    main()
