"""Build a model from a spec string such as `anthropic:claude-sonnet-4-5`."""

from __future__ import annotations

from typing import Any

from planner.errors import ConfigError
from planner.models.base import Model

PREFIXES = ("anthropic", "openai", "openai-responses", "scripted", "replay")


def from_spec(spec: str, **options: Any) -> Model:
    """A model for `prefix:rest`; options go to the adapter (max_tokens, stream, base_url...)."""
    prefix, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ConfigError(
            f"model spec {spec!r} must look like PREFIX:NAME, with PREFIX one of "
            f"{', '.join(PREFIXES)} (e.g. anthropic:claude-sonnet-4-5)"
        )
    if prefix == "anthropic":
        from planner.models.anthropic import AnthropicModel

        return AnthropicModel(rest, **options)
    if prefix == "openai":
        from planner.models.openai_chat import OpenAIChatModel

        return OpenAIChatModel(rest, **options)
    if prefix == "openai-responses":
        from planner.models.openai_responses import OpenAIResponsesModel

        return OpenAIResponsesModel(rest, **options)
    if prefix == "scripted":
        from planner.models.scripted import ScriptedModel

        return ScriptedModel.from_file(rest, **options)
    if prefix == "replay":
        from planner.models.replay import ReplayModel

        if options:
            raise ConfigError(
                f"model spec {spec!r}: replay takes no options, got {sorted(options)}"
            )
        return ReplayModel.from_transcript(rest)
    raise ConfigError(
        f"model spec {spec!r} has unknown prefix {prefix!r}; use one of {', '.join(PREFIXES)}"
    )
