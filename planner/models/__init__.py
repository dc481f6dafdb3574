"""Model protocol and adapters: scripted, replay, and the provider SDKs."""

from planner.models.anthropic import AnthropicModel
from planner.models.base import Model
from planner.models.openai_chat import OpenAIChatModel
from planner.models.openai_responses import OpenAIResponsesModel
from planner.models.replay import ReplayModel
from planner.models.scripted import ScriptedModel
from planner.models.spec import from_spec

__all__ = [
    "AnthropicModel",
    "Model",
    "OpenAIChatModel",
    "OpenAIResponsesModel",
    "ReplayModel",
    "ScriptedModel",
    "from_spec",
]
