"""Mission files (TOML) loaded into pydantic models, with errors naming file, field, problem."""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from croniter import croniter  # type: ignore[import-untyped]
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from missions.errors import MissionConfigError
from planner import MODEL_PREFIXES as PREFIXES
from planner import ModelOptions, PlannerError, PolicyMode

EVERY_RE = re.compile(r"^(\d+)(s|m|h|d)$")
EVERY_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PATH_PREFIXES = ("scripted", "replay")
"""Model providers whose spec names a file: resolved against the mission file's folder."""
CRON_FIELDS = ("second", "minute", "hour", "day of month", "month", "day of week")
BASE_DIR = "base_dir"
"""The validation-context key holding the folder a file's relative paths resolve against."""
OUTPUT_RE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_.]*$"
MODULE_RE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_]*)?$"
PositiveInt = Annotated[int, Field(ge=1)]
Model = TypeVar("Model", bound=BaseModel)


def relative_to_file(value: str, info: ValidationInfo) -> str:
    """`value` as a path: kept if absolute, else made absolute against the file's folder (when
    loading one), so the config means the same from any directory and after a round trip."""
    base = (info.context or {}).get(BASE_DIR)
    if base is None or os.path.isabs(value):
        return value
    return os.path.abspath(os.path.join(base, value))


def model_spec(value: str, info: ValidationInfo) -> str:
    """A checked `PROVIDER:NAME` spec; the file of `scripted:` and `replay:` made file-relative."""
    prefix, sep, rest = value.partition(":")
    if not sep or not rest.strip():
        raise ValueError(f"must look like PROVIDER:NAME with PROVIDER one of {', '.join(PREFIXES)}")
    if prefix not in PREFIXES:
        raise ValueError(f"unknown model provider {prefix!r}; known: {', '.join(PREFIXES)}")
    if prefix in PATH_PREFIXES:
        return f"{prefix}:{relative_to_file(rest, info)}"
    return value


def cron_problem(value: str) -> str | None:
    """Why `value` is not a cron of 5 fields (or 6, seconds first), naming the field; or None."""
    fields = value.split()
    if len(fields) not in (5, 6):
        return "must be a cron string of 5 (or 6, with seconds) fields"
    if len(fields) == 5:
        fields = ["0", *fields]
    for i, part in enumerate(fields):
        alone = " ".join(part if j == i else "*" for j in range(6))
        if not _cron_ok(alone):
            return f"{CRON_FIELDS[i]} field {part!r} is out of range or malformed"
    return None if _cron_ok(" ".join(fields)) else f"{value!r} is not a valid cron"


def _cron_ok(expr: str) -> bool:
    try:
        croniter(expr, second_at_beginning=True)
    except Exception:  # croniter raises several types for malformed fields
        return False
    return True


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyConfig(_Strict):
    """A mission's policy overrides."""

    mode: PolicyMode | None = None
    allow_destructive: list[str] = Field(default_factory=list)
    rate_limits: dict[str, PositiveInt] = Field(default_factory=dict)
    """Calls per user per rolling window, by tool name (the gate's default is 30)."""


class LimitsConfig(_Strict):
    """A mission's limits."""

    max_rounds: int = Field(default=8, ge=1)
    max_tool_calls: int | None = Field(default=None, ge=1)
    token_budget: int | None = Field(default=None, ge=1)
    cost_budget_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    timeout_s: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class SubAgentConfig(_Strict):
    """A sub-agent kind defined in a mission: tool patterns and, say, a cheaper model."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    description: str
    tools: list[str] = Field(default_factory=lambda: ["*"])
    read_only: bool = False
    max_rounds: int = Field(default=5, ge=1)
    model: str | None = None
    system_prompt: str | None = None

    @field_validator("model")
    @classmethod
    def _model_spec(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else model_spec(value, info)


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
    tool_modules: list[Annotated[str, Field(pattern=MODULE_RE)]] = Field(default_factory=list)
    """Python tool providers, `pkg.module` or `pkg.module:function` (see missions/toolmodules)."""
    tool_entry_points: list[str] = Field(default_factory=list)
    """Names of installed entry points in the group `mana_planner.tools`."""
    output: str | None = Field(default=None, pattern=OUTPUT_RE)
    """`pkg.module:Model`: the answer must validate into this pydantic model (missions/output)."""

    @field_validator("model")
    @classmethod
    def _model_spec(cls, value: str, info: ValidationInfo) -> str:
        return model_spec(value, info)

    @field_validator("subagents")
    @classmethod
    def _known_kinds(cls, value: list[str | SubAgentConfig]) -> list[str | SubAgentConfig]:
        from planner import DEFAULT_SUBAGENTS

        known = {s.name for s in DEFAULT_SUBAGENTS}
        for item in value:
            if isinstance(item, str) and item not in known:
                raise ValueError(f"unknown sub-agent {item!r}; built-in kinds: {sorted(known)}")
        return value

    @field_validator("reminders")
    @classmethod
    def _known_reminders(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from reminders import build_channel

        try:
            build_channel(value, "reminders")
        except (PlannerError, TypeError, ValueError) as exc:
            raise ValueError(str(exc).removeprefix("reminders.")) from None
        return value

    @field_validator("every")
    @classmethod
    def _every_is_a_duration(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = EVERY_RE.match(value)
        if not m:
            raise ValueError('must be a number and a unit s, m, h or d, like "15m" or "6h"')
        if int(m.group(1)) == 0:
            raise ValueError("must be greater than zero")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_is_cron(cls, value: str | None) -> str | None:
        problem = None if value is None else cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _options_fit_the_model(self) -> MissionConfig:
        from planner import ModelOptionError, adapter_options

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
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(x) for x in err.get("loc", ())) or "(file)"
        msg = str(err.get("msg")).removeprefix("Value error, ")
        lines.append(f"{path}: {loc}: {msg}")
    return "\n".join(lines)


def read_text(path: Path) -> str:
    """A config file's text; MissionConfigError naming the file when unreadable or not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MissionConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in raw:
        raise MissionConfigError(f"{path}: binary content (NUL byte at offset {raw.index(0)})")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MissionConfigError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from exc


def load_toml(path: Path) -> dict[str, Any]:
    """Read a UTF-8 TOML file, naming the file (and the line on a syntax error)."""
    text = read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MissionConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise MissionConfigError(f"{path}: not valid TOML: nested too deeply") from None


def validate_file(model: type[Model], path: Path, data: dict[str, Any]) -> Model:
    """`data` from the file at `path` as `model`; relative paths resolve against its folder."""
    try:
        return model.model_validate(data, context={BASE_DIR: str(path.parent)})
    except ValidationError as exc:
        raise MissionConfigError(describe_errors(path, exc)) from exc
    except RecursionError:
        raise MissionConfigError(f"{path}: nested too deeply") from None


def load_mission(path: str | Path) -> MissionConfig:
    """Load and validate one mission file."""
    p = Path(path)
    return validate_file(MissionConfig, p, load_toml(p))


def mission_files(target: str | Path) -> list[Path]:
    """The mission files at a path: the file itself, or every *.toml in a folder."""
    p = Path(target)
    return sorted(p.glob("*.toml")) if p.is_dir() else [p]
