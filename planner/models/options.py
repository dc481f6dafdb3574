"""Model options a mission (or `--model-option`) sets, checked for the provider they go to.

Neutral names: `temperature`, `max_output_tokens`, `stream`, `tool_choice` (`auto`, `none`,
`required` or the name of one offered tool) and `tool_calls_from_text` (read a tool call a
model wrote as JSON text). Each adapter takes them as keyword arguments; the scripted and
replay models accept and ignore them, so a mission can be tried offline unchanged.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.errors import ModelOptionError
from planner.messages import ToolSchema
from planner.tools import from_wire_name, to_wire_name

TOOL_CHOICE_MODES = ("auto", "none", "required")
NEUTRAL = ("temperature", "max_output_tokens", "stream", "tool_choice", "tool_calls_from_text")
MAX_TEMPERATURE = {"anthropic": 1.0, "openai": 2.0, "openai-responses": 2.0}
IGNORING = ("scripted", "replay")


class ModelOptions(BaseModel):
    """`[model_options]` of a mission: what may be set, with the ranges every provider shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_output_tokens: int | None = Field(default=None, ge=1)
    stream: bool | None = None
    tool_choice: str | None = Field(default=None, min_length=1)
    """`auto`, `none`, `required`, or a tool's name (dotted or wire) to force that tool."""
    tool_calls_from_text: bool | None = None

    def given(self) -> dict[str, Any]:
        """The options that are set, by neutral name."""
        return self.model_dump(exclude_none=True)

    def merged(self, overrides: Mapping[str, Any]) -> ModelOptions:
        """These options with `overrides` on top, validated (ModelOptionError names the option)."""
        return parse_options({**self.given(), **overrides})


def parse_options(data: Mapping[str, Any]) -> ModelOptions:
    """Validate neutral options; the first problem raises ModelOptionError naming the option."""
    try:
        return ModelOptions.model_validate(dict(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        option = ".".join(str(part) for part in error.get("loc", ())) or "model_options"
        raise ModelOptionError(option, str(error.get("msg"))) from exc


def parse_pairs(pairs: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` strings as options; values read as TOML (0.2, true, 512), else as text."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ModelOptionError(pair, "must look like KEY=VALUE, e.g. temperature=0.2")
        try:
            options[key] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            options[key] = raw.strip()
    return options


def adapter_options(provider: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Neutral options checked for `provider` and renamed to its adapter's keywords.

    Keywords that are not neutral options (base_url, prices, retry...) pass through unchanged.
    """
    neutral = parse_options({k: v for k, v in options.items() if k in NEUTRAL}).given()
    rest = {k: v for k, v in options.items() if k not in NEUTRAL}
    if provider in IGNORING:
        return rest
    limit = MAX_TEMPERATURE.get(provider)
    temperature = neutral.get("temperature")
    if limit is not None and temperature is not None and temperature > limit:
        raise ModelOptionError("temperature", f"{provider} takes 0 to {limit}, got {temperature}")
    if "max_output_tokens" in neutral:
        rest["max_tokens"] = neutral.pop("max_output_tokens")
    return {**rest, **neutral}


def tool_choice_mode(choice: str | None) -> str | None:
    """`auto`/`none`/`required` as they are; None when `choice` names a tool (or is unset)."""
    return choice if choice in TOOL_CHOICE_MODES else None


def forced_tool(choice: str | None, offered: tuple[ToolSchema, ...]) -> str | None:
    """The wire name of the tool `choice` forces, when it names one of the offered tools."""
    if choice is None or choice in TOOL_CHOICE_MODES:
        return None
    name = from_wire_name(choice)
    return to_wire_name(name) if any(t.name == name for t in offered) else None
