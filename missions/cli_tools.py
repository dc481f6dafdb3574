"""`tools list [--mission FILE]` and `missions validate`: the mission-aware tool commands.

`register(app)` mounts `tools` (without `--mission` it lists the built-in tools, as toolkits'
own `tools list` does); `register_validate(missions_app)` adds `validate` to `missions`.
Implementation modules are imported inside the commands, so mounting them is cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from missions.config import MissionConfig
    from planner import ToolRegistry

tools_app = typer.Typer(help="The app's tools, and the tools a mission sees.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
console = Console(soft_wrap=True)


@tools_app.callback()
def _tools() -> None:
    """The app's tools, and the tools a mission sees."""


def register(app: typer.Typer) -> None:
    """Mount `tools` on `app`."""
    app.add_typer(tools_app, name="tools")


def register_validate(missions_app: typer.Typer) -> None:
    """Add `validate` to the `missions` group."""
    missions_app.command("validate")(validate)


def mission_tool_rows(cfg: MissionConfig, path: Path, catalog: ToolRegistry) -> list[list[str]]:
    """One row per tool the mission may see: name, hint, parallel-safe, source, description."""
    from missions.toolmodules import tool_providers
    from planner import AnyToolSpec, read_tools_are_parallel_safe

    found: list[tuple[str, AnyToolSpec]] = [("built-in", s) for s in catalog]
    for provided in tool_providers(cfg, path):
        found += [(provided.source, s) for s in provided.specs]
    return [
        [
            spec.name,
            spec.policy_hint,
            "yes" if read_tools_are_parallel_safe(spec) else "no",
            source,
            spec.description.strip().splitlines()[0] if spec.description.strip() else "",
        ]
        for source, spec in found
        if cfg.selects(spec.name)
    ]


@tools_app.command("list")
def tools_list(
    mission: Annotated[
        Path | None, typer.Option(help="Only the tools this mission file may use, its own too")
    ] = None,
) -> None:
    """List tools: every built-in one, or those a mission may use with their descriptions."""
    from missions.app import tool_catalog
    from missions.config import load_mission
    from missions.errors import MissionConfigError
    from toolkits import print_table
    from toolkits import tools_list as builtin_tools_list

    if mission is None:
        builtin_tools_list()
        return
    try:
        cfg = load_mission(mission)
        rows = mission_tool_rows(cfg, mission, tool_catalog())
    except MissionConfigError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    columns = ["name", "hint", "parallel-safe", "source", "description"]
    print_table(f"tools of {cfg.id}", columns, rows)
    if cfg.tool_sources:
        err.print("note: tools of [[tool_sources]] are listed only by a run", highlight=False)


def validate(
    target: Annotated[Path, typer.Argument(help="A mission file or a folder of them")] = Path(
        "configs/missions"
    ),
) -> None:
    """Check mission files: every problem one line with file and field; exit 1 on any error."""
    from missions.app import tool_catalog
    from missions.checks import check_mission
    from missions.config import load_mission, mission_files
    from missions.errors import MissionConfigError

    files = mission_files(target)
    if not files:
        err.print(f"error: {target}: no mission files", markup=False, highlight=False)
        raise typer.Exit(2)
    catalog = tool_catalog()
    bad = 0
    for path in files:
        try:
            cfg = load_mission(path)
        except MissionConfigError as exc:
            bad += 1
            err.print(str(exc), markup=False, highlight=False)
            continue
        found = check_mission(cfg, path, catalog)
        for line in found.warnings:
            err.print(f"warning: {line}", markup=False, highlight=False)
        if found.errors:
            bad += 1
            err.print("\n".join(found.errors), markup=False, highlight=False)
            continue
        console.print(f"[green]ok[/] {path} ({cfg.id})", highlight=False)
    if bad:
        raise typer.Exit(1)
