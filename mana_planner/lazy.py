"""A typer group whose commands are imported only when one of them runs.

The root lists every command by name and one-line help without importing the package that
implements it; `mana-planner --help` stays as cheap as importing typer.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer import _click  # typer's own click (vendored since typer 0.29)
from typer.core import TyperCommand, TyperGroup


@dataclass(frozen=True)
class Mount:
    """A command the root shows by `name` and `help`; `loader` ("module:function") mounts it.

    The function takes a typer app and registers `name` on it (with whatever else it
    registers); it is imported and called only when `name` runs or shows its own help.
    """

    name: str
    help: str
    loader: str
    panel: str | None = None


def _noop() -> None:
    """Keeps a one-command app a group, so its command is looked up by name."""


def load(mount: Mount) -> _click.Command | None:
    """Import the mount's module, let it register on a fresh app, return the named command."""
    module_name, _, function = mount.loader.partition(":")
    app = typer.Typer()
    app.callback()(_noop)
    getattr(importlib.import_module(module_name), function)(app)
    return typer.main.get_group(app).commands.get(mount.name)


class LazyGroup(TyperGroup):
    """A TyperGroup whose `mounts` are placeholders until resolved; plain help when piped."""

    mounts: ClassVar[Mapping[str, Mount]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for mount in self.mounts.values():
            self.commands.setdefault(
                mount.name,
                TyperCommand(name=mount.name, help=mount.help, rich_help_panel=mount.panel),
            )

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        """Resolve as typer does, then swap a mount's placeholder for the real command."""
        name, cmd, rest = super().resolve_command(ctx, args)
        mount = self.mounts.get(name or "")
        if mount is None:
            return name, cmd, rest
        real = load(mount)
        if real is None:
            ctx.fail(f"{mount.loader} registered no command {mount.name!r}")
        return name, real, rest

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        """No arguments: the help, as typer prints it (its rich path prints while formatting)."""
        piped = not sys.stdout.isatty()
        if not args and self.no_args_is_help and not ctx.resilient_parsing and piped:
            typer.echo(ctx.get_help())
            ctx.exit(2)
        return super().parse_args(ctx, args)

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        """Rich help on a terminal; click's plain help when piped (and no rich import)."""
        if sys.stdout.isatty():
            super().format_help(ctx, formatter)
            return
        _click.Command.format_help(self, ctx, formatter)
