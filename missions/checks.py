"""What a mission file means beyond its schema: tool names and patterns that match a tool, model
files that exist, tool modules that import. One line per problem, naming file and field."""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from missions.config import PATH_PREFIXES, MissionConfig, SubAgentConfig, load_mission
from missions.errors import MissionConfigError
from missions.output import mission_output_model
from missions.toolmodules import where, with_provided_tools
from planner import TASK_TOOL, ToolRegistry

WILDCARD_RE = re.compile(r"[*?\[]")
SOURCES_NOTE = "tools of [[tool_sources]] are known only when a run connects"


@dataclass(frozen=True)
class MissionCheck:
    """The problems found in one mission: errors stop a run, warnings are printed."""

    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def did_you_mean(wanted: str, names: list[str]) -> str:
    """`; did you mean 'x'?` for the closest tool names or `module.*` patterns, else ''."""
    modules = sorted({n.split(".", 1)[0] + ".*" for n in names if "." in n})
    close = difflib.get_close_matches(wanted, [*names, *modules], n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _may_be_remote(pattern: str, cfg: MissionConfig) -> bool:
    """True when a tool of a `[[tool_sources]]` entry could match `pattern`."""
    literal = WILDCARD_RE.split(pattern, maxsplit=1)[0]
    for source in cfg.tool_sources:
        if not source.prefix:
            return True
        head = source.prefix + "."
        if head.startswith(literal) or literal.startswith(head):
            return True
    return False


@dataclass
class _Checker:
    cfg: MissionConfig
    label: str
    names: list[str]
    errors: list[str]
    warnings: list[str]
    complete: bool
    """False when a tool provider failed: its tools are unknown, so names are not checked."""

    def unknown(self, field: str, wanted: str, what: str) -> None:
        """Report `wanted` (a name or pattern in `field`) that matches no known tool."""
        if not self.complete:
            return
        if _may_be_remote(wanted, self.cfg):
            self.warnings.append(
                f"{self.label}: {field}: {wanted!r} matches no built-in or module tool; "
                f"not checked, since {SOURCES_NOTE}"
            )
            return
        hint = did_you_mean(wanted, self.names)
        self.errors.append(f"{self.label}: {field}: {wanted!r} {what}{hint}")

    def patterns(self, field: str, patterns: list[str]) -> None:
        """Every pattern must match at least one known tool."""
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(n, pattern) for n in self.names):
                self.unknown(field, pattern, "matches no known tool")

    def exact(self, field: str, names: list[str]) -> None:
        """Policy entries name tools exactly (no patterns)."""
        for name in names:
            if name not in self.names:
                self.unknown(field, name, "is not the name of a known tool")

    def model(self, field: str, spec: str | None) -> None:
        """A scripted-steps file or replayed transcript must exist."""
        prefix, _, rest = (spec or "").partition(":")
        if prefix in PATH_PREFIXES and not Path(rest).is_file():
            what = "scripted steps file" if prefix == "scripted" else "transcript"
            self.errors.append(f"{self.label}: {field}: {what} {rest} does not exist")


def check_mission(
    cfg: MissionConfig,
    mission_path: Path | None,
    catalog: ToolRegistry,
    *,
    check_model: bool = True,
) -> MissionCheck:
    """The mission's problems against the built-in tools in `catalog` plus its own modules'."""
    label = where(cfg, mission_path)
    errors: list[str] = []
    names = list(catalog.names)
    try:
        names = with_provided_tools(catalog, cfg, mission_path).names
    except MissionConfigError as exc:
        errors.append(str(exc))
    try:
        mission_output_model(cfg, mission_path)
    except MissionConfigError as exc:
        errors.append(str(exc))
    if cfg.subagents:
        names.append(TASK_TOOL)
    check = _Checker(cfg, label, names, errors, [], complete=not errors)
    check.patterns("tools", cfg.tools)
    check.exact("policy.rate_limits", list(cfg.policy.rate_limits))
    check.exact("policy.allow_destructive", cfg.policy.allow_destructive)
    if check_model:
        check.model("model", cfg.model)
    for i, sub in enumerate(cfg.subagents):
        if isinstance(sub, SubAgentConfig):
            check.patterns(f"subagents.{i}.tools", sub.tools)
            check.model(f"subagents.{i}.model", sub.model)
    return MissionCheck(tuple(errors), tuple(check.warnings))


def preflight(
    path: Path, catalog: ToolRegistry, *, model_override: str | None = None
) -> tuple[MissionConfig, tuple[str, ...]]:
    """Load and check a mission file before a run: MissionConfigError with every error, else
    the mission and its warnings."""
    cfg = load_mission(path)
    found = check_mission(cfg, path, catalog, check_model=model_override is None)
    if found.errors:
        raise MissionConfigError("\n".join(found.errors))
    return cfg, found.warnings
