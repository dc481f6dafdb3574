"""Real provider adapters aimed at the fake LLM server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from planner.models.anthropic import AnthropicModel
from planner.models.openai_chat import OpenAIChatModel
from planner.models.openai_responses import OpenAIResponsesModel
from planner.testing.fake_llm import FakeLLMServer

AnyModel = AnthropicModel | OpenAIChatModel | OpenAIResponsesModel
MakeModel = Callable[..., AnyModel]
AdapterKind = Literal["anthropic", "chat", "responses"]


def build_adapter(
    kind: str, server: FakeLLMServer, name: str, *, stream: bool = False, **options: Any
) -> AnyModel:
    """A real adapter of `kind` (anthropic, chat, responses) aimed at the fake server."""
    if kind == "anthropic":
        return AnthropicModel(
            name, api_key="test-key", base_url=server.base_url, stream=stream, **options
        )
    adapter = OpenAIChatModel if kind == "chat" else OpenAIResponsesModel
    return adapter(
        name, api_key="test-key", base_url=server.openai_base_url, stream=stream, **options
    )
