"""Pytest fixtures shared by the adapter and end-to-end tests: one fake LLM server a session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from planner.models import AnthropicModel, OpenAIChatModel, OpenAIResponsesModel
from tests.fakes.llm_server import FakeLLMServer

AnyModel = AnthropicModel | OpenAIChatModel | OpenAIResponsesModel
MakeModel = Callable[..., AnyModel]


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


@pytest.fixture(scope="session")
def llm_server_session() -> Iterator[FakeLLMServer]:
    """The fake server, started once."""
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm_server(llm_server_session: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """The fake server with no queued replies and no recorded requests."""
    llm_server_session.reset()
    yield llm_server_session
    llm_server_session.reset()


@pytest.fixture
async def adapters() -> AsyncIterator[list[AnyModel]]:
    """Adapters a test built; closed after it."""
    created: list[AnyModel] = []
    yield created
    for model in created:
        await model.aclose()
