"""Mission files (TOML) loaded into pydantic models, with errors naming file, field, problem."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from missions.errors import MissionConfigError
from planner.models import ModelOptions
from planner.policy import PolicyMode

EVERY_RE = re.compile(r"^(\d+)(s|m|h|d)$")
EVERY_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyConfig(_Strict):
    """A mission's policy overrides."""

    mode: PolicyMode | None = None
    allow_destructive: list[str] = Field(default_factory=list)
    rate_limits: dict[str, int] = Field(default_factory=dict)


class LimitsConfig(_Strict):
    """A mission's limits."""

    max_rounds: int = Field(default=8, ge=1)
    max_tool_calls: int | None = Field(default=None, ge=1)
    token_budget: int | None = Field(default=None, ge=1)
    cost_budget_usd: float | None = Field(default=None, gt=0)
    timeout_s: float | None = Field(default=None, gt=0)


class SubAgentConfig(_Strict):
    """A sub-agent kind defined in a mission: tool patterns and, say, a cheaper model."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    description: str
    tools: list[str] = Field(default_factory=lambda: ["*"])
    read_only: bool = False
    max_rounds: int = Field(default=5, ge=1)
    model: str | None = None
    system_prompt: str | None = None


class ToolSourceConfig(_Strict):
    """An MCP server whose tools the mission may use: over HTTP (`url`, a token in an env
    variable) or a local process over stdio (`command`, `env`, `cwd`)."""

    url: str | None = Field(default=None, pattern=r"^https?://")
    token_env: str | None = None
    space: str | None = None
    command: list[str] | None = Field(default=None, min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    """Relative to the mission file's directory."""
    prefix: str | None = None

    @model_validator(mode="after")
    def _one_transport(self) -> ToolSourceConfig:
        if (self.url is None) == (self.command is None):
            raise ValueError("set `url` (an HTTP MCP server) or `command` (a stdio one), not both")
        if self.command is not None and (self.token_env or self.space):
            raise ValueError("`token_env` and `space` apply to `url` sources only")
        if self.url is not None and (self.env or self.cwd):
            raise ValueError("`env` and `cwd` apply to `command` sources only")
        return self


class MissionConfig(_Strict):
    """One mission: a goal, a model, the tools it may use, limits and a schedule."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    objective: str
    system_prompt: str = "You are a careful assistant working for the user through tools."
    model: str
    model_options: ModelOptions = Field(default_factory=ModelOptions)
    """`[model_options]`: temperature, max_output_tokens, stream, tool_choice and more."""
    tools: list[str] = Field(default_factory=lambda: ["*"])
    user_id: str
    space_id: str | None = None
    mode: Literal["execute", "plan-only"] = "execute"
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    reminders: dict[str, dict[str, Any]] = Field(default_factory=dict)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    schedule: str | None = None
    every: str | None = None
    parallel_reads: bool = True
    tool_sources: list[ToolSourceConfig] = Field(default_factory=list)
    """`[[tool_sources]]`: MCP servers (the gateway, or any other) as extra tools."""
    subagents: list[str | SubAgentConfig] = Field(default_factory=list)
    """Names of built-in kinds (research, plan, general) or `[[subagents]]` tables."""

    @field_validator("subagents")
    @classmethod
    def _known_kinds(cls, value: list[str | SubAgentConfig]) -> list[str | SubAgentConfig]:
        from planner.subagents import DEFAULT_SUBAGENTS

        known = {s.name for s in DEFAULT_SUBAGENTS}
        for item in value:
            if isinstance(item, str) and item not in known:
                raise ValueError(f"unknown sub-agent {item!r}; built-in kinds: {sorted(known)}")
        return value

    @field_validator("every")
    @classmethod
    def _every_is_a_duration(cls, value: str | None) -> str | None:
        if value is not None and not EVERY_RE.match(value):
            raise ValueError('must be a number and a unit s, m, h or d, like "15m" or "6h"')
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_is_cron(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) not in (5, 6):
            raise ValueError("must be a cron string of 5 (or 6, with seconds) fields")
        return value

    @model_validator(mode="after")
    def _options_fit_the_model(self) -> MissionConfig:
        from planner.errors import ModelOptionError
        from planner.models.options import adapter_options

        try:
            adapter_options(self.model.partition(":")[0], self.model_options.given())
        except ModelOptionError as exc:
            raise ValueError(str(exc)) from exc
        return self

    @model_validator(mode="after")
    def _one_schedule(self) -> MissionConfig:
        if self.schedule and self.every:
            raise ValueError("set `schedule` or `every`, not both")
        return self

    @property
    def every_seconds(self) -> int | None:
        """The `every` interval in seconds."""
        if self.every is None:
            return None
        m = EVERY_RE.match(self.every)
        assert m is not None
        return int(m.group(1)) * EVERY_UNITS[m.group(2)]

    def selects(self, tool_name: str) -> bool:
        """True when a tool pattern of this mission matches `tool_name`."""
        return any(fnmatch.fnmatchcase(tool_name, p) for p in self.tools)


def describe_errors(path: Path, exc: ValidationError) -> str:
    """One line per problem: `file: field: problem`."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ())) or "(file)"
        lines.append(f"{path}: {loc}: {err.get('msg')}")
    return "\n".join(lines)


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, naming the file and the line on a syntax error."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise MissionConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MissionConfigError(f"{path}: not valid TOML: {exc}") from exc


def load_mission(path: str | Path) -> MissionConfig:
    """Load and validate one mission file."""
    p = Path(path)
    data = load_toml(p)
    try:
        return MissionConfig.model_validate(data)
    except ValidationError as exc:
        raise MissionConfigError(describe_errors(p, exc)) from exc


def mission_files(target: str | Path) -> list[Path]:
    """The mission files at a path: the file itself, or every *.toml in a folder."""
    p = Path(target)
    return sorted(p.glob("*.toml")) if p.is_dir() else [p]
