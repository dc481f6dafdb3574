"""Build a model from a spec string such as `anthropic:claude-sonnet-4-5`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner.errors import ConfigError
from planner.models.base import Model
from planner.models.options import adapter_options

PREFIXES = ("anthropic", "openai", "openai-responses", "scripted", "replay")


def from_spec(spec: str, **options: Any) -> Model:
    """A model for `prefix:rest`; options are model options (temperature, max_output_tokens,
    stream, tool_choice, tool_calls_from_text; checked for the provider) or adapter keywords
    (base_url, prices...)."""
    prefix, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ConfigError(
            f"model spec {spec!r} must look like PREFIX:NAME, with PREFIX one of "
            f"{', '.join(PREFIXES)} (e.g. anthropic:claude-sonnet-4-5)"
        )
    if prefix not in PREFIXES:
        raise ConfigError(
            f"model spec {spec!r} has unknown prefix {prefix!r}; use one of {', '.join(PREFIXES)}"
        )
    kwargs = adapter_options(prefix, options)
    if prefix == "anthropic":
        from planner.models.anthropic import AnthropicModel

        return AnthropicModel(rest, **kwargs)
    if prefix == "openai":
        from planner.models.openai_chat import OpenAIChatModel

        return OpenAIChatModel(rest, **kwargs)
    if prefix == "openai-responses":
        from planner.models.openai_responses import OpenAIResponsesModel

        return OpenAIResponsesModel(rest, **kwargs)
    if prefix == "scripted":
        from planner.models.scripted import ScriptedModel

        return ScriptedModel.from_file(rest, **kwargs)
    from planner.models.replay import ReplayModel

    if kwargs:
        raise ConfigError(f"model spec {spec!r}: replay takes no options, got {sorted(kwargs)}")
    return ReplayModel.from_transcript(rest)


def resolve_spec(spec: str, base_dir: Path | None) -> str:
    """`spec` with a relative scripted-steps or transcript path made absolute against
    `base_dir` (the mission file's folder), so a mission runs from any directory."""
    prefix, sep, rest = spec.partition(":")
    if base_dir is None or not sep or prefix not in ("scripted", "replay"):
        return spec
    path = Path(rest).expanduser()
    return spec if path.is_absolute() else f"{prefix}:{(base_dir / path).resolve()}"
