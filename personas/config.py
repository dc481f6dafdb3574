"""Persona files (TOML) loaded into pydantic models, with errors naming file, field, problem."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from missions import (
    BASE_DIR,
    PATH_PREFIXES,
    MissionConfigError,
    load_toml,
    model_spec,
    validate_file,
)
from personas.errors import PersonaConfigError
from toolkits import ROLES, SPACE_TYPES

Cadence = Literal["hourly", "daily", "weekdays"]
CADENCES: tuple[Cadence, ...] = ("hourly", "daily", "weekdays")
MODULES: tuple[str, ...] = ("spaces", "todo", "habits", "notes", "journal", "me")
"""The app's tool modules a persona may weigh (the `module` of `module.verb`)."""
PERSONAL = "personal"
SHARED_SPACE_RE = re.compile(r"^[a-z]+:[a-z0-9][a-z0-9_-]*$")
DEFAULT_DIR = Path("configs/personas")
SCRIPTED_PERSONA = "scripted-persona"
"""The offline persona driver's model spec (`scripted-persona` or `scripted-persona:SEED`)."""
Weight = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SharedSpace(_Strict):
    """A shared space the persona belongs to: created on first run if missing."""

    id: str = Field(description="type:slug, e.g. club:riverside-rowing")
    type: str
    name: str
    role: str = "member"

    @field_validator("type")
    @classmethod
    def _shared_type(cls, value: str) -> str:
        shared = [t for t in SPACE_TYPES if t != PERSONAL]
        if value not in shared:
            raise ValueError(f"must be one of {', '.join(shared)}")
        return value

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"must be one of {', '.join(ROLES)}")
        return value

    @model_validator(mode="after")
    def _id_matches_type(self) -> SharedSpace:
        if not SHARED_SPACE_RE.match(self.id):
            raise ValueError(f"id {self.id!r} must look like TYPE:slug (lower case)")
        if self.id.split(":", 1)[0] != self.type:
            raise ValueError(f"id {self.id!r} must start with its type {self.type!r}:")
        return self


class ToolNudge(_Strict):
    """How many tool calls a session should make: the prompt nudges toward this range."""

    min: int = Field(default=3, ge=0)
    max: int = Field(default=8, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ToolNudge:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class PersonaConfig(_Strict):
    """One simulated user: who they are, what they use, how often, and with which model."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    archetype: str
    system_prompt: str = Field(min_length=20)
    language: str = "en"
    modules: dict[str, Weight]
    """Weights over tool modules; only modules with a weight are offered to the persona."""
    cadence: Cadence
    goals: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    model: str
    max_turns: int = Field(default=15, ge=1, le=100)
    tools: ToolNudge = Field(default_factory=ToolNudge)
    space: str = PERSONAL
    """The space sessions act in: `personal` or the id of one of `spaces`."""
    spaces: list[SharedSpace] = Field(default_factory=list)
    timezone: str = "UTC"
    """Where the persona lives: `weekdays` counts Monday to Friday in this zone."""

    @field_validator("modules")
    @classmethod
    def _known_modules(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("needs at least one module weight")
        for name, weight in value.items():
            if name not in MODULES:
                close = difflib.get_close_matches(name, MODULES, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown module {name!r}; one of {', '.join(MODULES)}{hint}")
            if weight <= 0:
                raise ValueError(f"weight of {name!r} must be positive, got {weight:g}")
        return value

    @field_validator("model")
    @classmethod
    def _model(cls, value: str, info: ValidationInfo) -> str:
        prefix, _, seed = value.partition(":")
        if prefix == SCRIPTED_PERSONA:
            if seed and not seed.lstrip("-").isdigit():
                raise ValueError(f"the seed of {SCRIPTED_PERSONA}:SEED must be an integer")
            return value
        spec = model_spec(value, info)
        kind, _, rest = spec.partition(":")
        loading = (info.context or {}).get(BASE_DIR) is not None
        if kind in PATH_PREFIXES and loading and not os.path.isfile(rest):
            raise ValueError(f"file {rest} does not exist")
        return spec

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _space_is_known(self) -> PersonaConfig:
        ids = [s.id for s in self.spaces]
        if len(set(ids)) != len(ids):
            raise ValueError("a shared space is listed twice")
        if self.space != PERSONAL and self.space not in ids:
            raise ValueError(f"space {self.space!r} must be `personal` or one of `spaces` ids")
        return self

    @property
    def user_id(self) -> str:
        """The persona's user id in the app."""
        return persona_user_id(self.id)

    @property
    def space_type(self) -> str:
        """The type of the space sessions act in."""
        if self.space == PERSONAL:
            return PERSONAL
        return next(s.type for s in self.spaces if s.id == self.space)

    @property
    def zone(self) -> ZoneInfo:
        """The persona's time zone."""
        return ZoneInfo(self.timezone)

    def module_share(self) -> dict[str, float]:
        """Module weights normalised to sum to 1, largest first."""
        total = sum(self.modules.values())
        ordered = sorted(self.modules.items(), key=lambda kv: (-kv[1], kv[0]))
        return {name: weight / total for name, weight in ordered}

    def uses(self, tool_name: str) -> bool:
        """True when the tool's module has a weight in this persona's mix."""
        return module_of(tool_name) in self.modules


def persona_user_id(persona_id: str) -> str:
    """The user id a persona acts as (users of kind `persona`)."""
    return f"persona-{persona_id}"


def module_of(tool_name: str) -> str:
    """The module of a `module.verb` tool name."""
    return tool_name.split(".", 1)[0]


def load_persona(path: str | Path) -> PersonaConfig:
    """Load and validate one persona file."""
    p = Path(path)
    try:
        return validate_file(PersonaConfig, p, load_toml(p))
    except MissionConfigError as exc:
        raise PersonaConfigError(str(exc)) from exc


def persona_files(target: str | Path = DEFAULT_DIR) -> list[Path]:
    """The persona files at a path: the file itself, or every *.toml in a folder."""
    p = Path(target)
    return sorted(p.glob("*.toml")) if p.is_dir() else [p]


def load_personas(target: str | Path = DEFAULT_DIR) -> list[PersonaConfig]:
    """Every persona at a path; all problems of all files in one PersonaConfigError."""
    found: list[PersonaConfig] = []
    problems: list[str] = []
    paths: dict[str, Path] = {}
    for path in persona_files(target):
        try:
            cfg = load_persona(path)
        except PersonaConfigError as exc:
            problems.append(str(exc))
            continue
        if cfg.id in paths:
            problems.append(f"{path}: id: {cfg.id!r} is also the id of {paths[cfg.id]}")
            continue
        paths[cfg.id] = path
        found.append(cfg)
    if problems:
        raise PersonaConfigError("\n".join(problems))
    if not found:
        raise PersonaConfigError(f"{target}: no persona files")
    return found


def select(personas: list[PersonaConfig], ids: list[str]) -> list[PersonaConfig]:
    """The personas with these ids, in the order given; unknown ids raise PersonaConfigError."""
    by_id = {p.id: p for p in personas}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise PersonaConfigError(
            f"unknown persona ids: {', '.join(unknown)}; known: {', '.join(sorted(by_id))}"
        )
    return [by_id[i] for i in ids]
