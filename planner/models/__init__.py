"""Model protocol and adapters: scripted, replay, and the provider SDKs (imported on first use)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from planner.exports import lazy_exports
from planner.models.base import Model
from planner.models.options import ModelOptions
from planner.models.replay import ReplayModel
from planner.models.scripted import ScriptedModel

if TYPE_CHECKING:
    from planner.models.anthropic import AnthropicModel
    from planner.models.openai_chat import OpenAIChatModel
    from planner.models.openai_responses import OpenAIResponsesModel
    from planner.models.spec import from_spec, resolve_spec

__getattr__ = lazy_exports(
    __name__,
    {
        "planner.models.anthropic": ("AnthropicModel",),
        "planner.models.openai_chat": ("OpenAIChatModel",),
        "planner.models.openai_responses": ("OpenAIResponsesModel",),
        "planner.models.spec": ("from_spec", "resolve_spec"),
    },
)

__all__ = [
    "AnthropicModel",
    "Model",
    "ModelOptions",
    "OpenAIChatModel",
    "OpenAIResponsesModel",
    "ReplayModel",
    "ScriptedModel",
    "from_spec",
    "resolve_spec",
]
