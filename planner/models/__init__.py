"""Model protocol and adapters: scripted, replay, and the provider SDKs (imported on first use)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from planner.models.base import Model
from planner.models.options import ModelOptions
from planner.models.replay import ReplayModel
from planner.models.scripted import ScriptedModel

if TYPE_CHECKING:
    from planner.models.anthropic import AnthropicModel
    from planner.models.openai_chat import OpenAIChatModel
    from planner.models.openai_responses import OpenAIResponsesModel
    from planner.models.spec import from_spec, resolve_spec

_LAZY = {
    "AnthropicModel": "planner.models.anthropic",
    "OpenAIChatModel": "planner.models.openai_chat",
    "OpenAIResponsesModel": "planner.models.openai_responses",
    "from_spec": "planner.models.spec",
    "resolve_spec": "planner.models.spec",
}

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


def __getattr__(name: str) -> Any:
    """Import the SDK adapters only when asked for: `import planner` stays fast."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'planner.models' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
