"""Typed exceptions of the planner engine."""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of every error the engine raises."""


class ConfigError(PlannerError):
    """A setting or environment variable has a value the engine cannot use."""


class ToolRegistryError(PlannerError):
    """The tool registry cannot be built (bad name, collision, too long)."""


class ToolError(PlannerError):
    """Raised by a tool handler for an error the model should read."""


class ModelError(PlannerError):
    """The model call failed for good (after the adapter's retries)."""


class ScriptExhaustedError(ModelError):
    """A scripted or replayed model was asked for more responses than it holds."""


class TranscriptError(PlannerError):
    """A transcript file is unreadable; the message names file:line and the problem."""


class ForkError(PlannerError):
    """A fork cannot start: the round is not in the transcript; the message names both."""


class MissingApiKeyError(ConfigError):
    """A model provider needs an API key and its environment variable is not set."""

    def __init__(self, variable: str, provider: str) -> None:
        super().__init__(
            f"{provider} needs an API key: set the {variable} environment variable "
            f"(or pass api_key=...)"
        )
        self.variable = variable
        self.provider = provider


class ModelOptionError(ConfigError):
    """A model option is unknown or has a value the chosen provider does not take."""

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(f"model option {option}: {problem}")
        self.option = option


class OutputModelError(ConfigError):
    """An output model reference does not name a pydantic model class that can be imported."""

    def __init__(self, ref: str, problem: str) -> None:
        super().__init__(f"output model {ref}: {problem}")
        self.ref = ref


class ToolSourceError(PlannerError):
    """A tool source cannot be reached or refused the connection (names the URL and status)."""
