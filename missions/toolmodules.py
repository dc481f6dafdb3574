"""A mission's own Python tools: `tool_modules` and installed `mana_planner.tools` entry points.

A provider is a module with a `tools()` function, or that function itself (`pkg.mod:func`).
`tools()` takes no arguments and returns an iterable of ToolSpec (a ToolRegistry is one). A
module named in `tool_modules` is imported with the mission file's folder searched first, so a
`my_tools.py` beside the mission works without installing anything.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from missions.config import MissionConfig
from missions.errors import MissionConfigError
from planner import AnyToolSpec, ToolRegistry, ToolRegistryError, ToolSpec

ENTRY_POINT_GROUP = "mana_planner.tools"
PROVIDER_FUNCTION = "tools"


@dataclass(frozen=True)
class ProvidedTools:
    """The tools one provider gave: where they came from (`field: name`) and the specs."""

    source: str
    specs: tuple[AnyToolSpec, ...]


def where(cfg: MissionConfig, mission_path: Path | None) -> str:
    """How errors name the mission: its file, else its id."""
    return str(mission_path) if mission_path else cfg.id


@contextmanager
def _searched_first(folder: Path | None) -> Iterator[None]:
    """Imports inside the block look in `folder` before the rest of sys.path."""
    entry = str(folder) if folder is not None else None
    if entry is None or entry in sys.path:
        yield
        return
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(entry)


def installed_entry_points() -> dict[str, EntryPoint]:
    """The installed entry points of the group `mana_planner.tools`, by name."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def specs_of(target: object, label: str) -> tuple[AnyToolSpec, ...]:
    """Call a provider (a module's `tools()`, or the function) and check what it returns."""
    func = getattr(target, PROVIDER_FUNCTION, None) if isinstance(target, ModuleType) else target
    if not callable(func):
        raise MissionConfigError(f"{label}: exposes no `{PROVIDER_FUNCTION}()` function")
    try:
        found = tuple(func())
    except Exception as exc:  # user code: any failure is a config problem of this provider
        raise MissionConfigError(
            f"{label}: {PROVIDER_FUNCTION}() failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not found:
        raise MissionConfigError(f"{label}: {PROVIDER_FUNCTION}() returned no tools")
    for item in found:
        if not isinstance(item, ToolSpec):
            raise MissionConfigError(
                f"{label}: {PROVIDER_FUNCTION}() returned a {type(item).__name__}, not a ToolSpec"
            )
    return found


def _load(entry: EntryPoint, label: str) -> object:
    try:
        return entry.load()
    except Exception as exc:  # importing user code can raise anything
        raise MissionConfigError(f"{label}: cannot import: {type(exc).__name__}: {exc}") from exc


def _entry_point(name: str, installed: dict[str, EntryPoint], label: str) -> EntryPoint:
    if name in installed:
        return installed[name]
    close = difflib.get_close_matches(name, installed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    known = ", ".join(sorted(installed)) or "none"
    raise MissionConfigError(
        f"{label}: no installed entry point of group {ENTRY_POINT_GROUP} has this name "
        f"(installed: {known}){hint}"
    )


def tool_providers(cfg: MissionConfig, mission_path: Path | None) -> list[ProvidedTools]:
    """Every provider of the mission, imported and called; MissionConfigError names the first
    one that fails to import or gives nothing usable."""
    found: list[ProvidedTools] = []
    name = where(cfg, mission_path)
    folder = mission_path.parent if mission_path else None
    with _searched_first(folder):
        for module in cfg.tool_modules:
            label = f"{name}: tool_modules: {module}"
            target = _load(EntryPoint(module, module, ENTRY_POINT_GROUP), label)
            found.append(ProvidedTools(f"tool_modules: {module}", specs_of(target, label)))
    installed = installed_entry_points() if cfg.tool_entry_points else {}
    for ep_name in cfg.tool_entry_points:
        label = f"{name}: tool_entry_points: {ep_name}"
        target = _load(_entry_point(ep_name, installed, label), label)
        found.append(ProvidedTools(f"tool_entry_points: {ep_name}", specs_of(target, label)))
    return found


def with_provided_tools(
    registry: ToolRegistry, cfg: MissionConfig, mission_path: Path | None
) -> ToolRegistry:
    """`registry` plus the mission's own tools; a name given twice is a MissionConfigError."""
    merged = registry
    for provided in tool_providers(cfg, mission_path):
        try:
            merged = merged.merged(provided.specs)
        except ToolRegistryError as exc:
            raise MissionConfigError(
                f"{where(cfg, mission_path)}: {provided.source}: {exc}"
            ) from exc
    return merged
