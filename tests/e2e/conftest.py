"""Fixtures for the end-to-end tests: the fake LLM server and real adapters aimed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from planner.models import AnthropicModel, OpenAIChatModel, OpenAIResponsesModel
from planner.models.retry import RetryPolicy
from tests.fakes.llm_server import FakeLLMServer

KINDS = ("anthropic", "chat", "responses")
MODEL_NAMES = {"anthropic": "claude-haiku-4-5", "chat": "gpt-5-mini", "responses": "gpt-5-mini"}
"""Ids priced in configs/models.toml, so usage carries a real cost."""
FAST_RETRY = RetryPolicy(max_attempts=3, initial_wait_s=0.01, max_wait_s=0.02, jitter_s=0.005)

AnyModel = AnthropicModel | OpenAIChatModel | OpenAIResponsesModel
MakeModel = Callable[..., AnyModel]


@pytest.fixture(scope="session")
def e2e_server_session() -> Iterator[FakeLLMServer]:
    """The fake server, started once for the folder."""
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def llm_server(e2e_server_session: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """The fake server with no queued replies and no recorded requests."""
    e2e_server_session.reset()
    yield e2e_server_session
    e2e_server_session.reset()


@pytest.fixture
async def make_model(llm_server: FakeLLMServer) -> AsyncIterator[MakeModel]:
    """Build a real adapter of a kind, aimed at the fake server, with fast retries."""
    created: list[AnyModel] = []

    def make(kind: str, *, stream: bool = False, **options: Any) -> AnyModel:
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("timeout_s", 10.0)
        name = options.pop("model", MODEL_NAMES[kind])
        model: AnyModel
        if kind == "anthropic":
            model = AnthropicModel(
                name, api_key="test-key", base_url=llm_server.base_url, stream=stream, **options
            )
        elif kind == "chat":
            model = OpenAIChatModel(
                name,
                api_key="test-key",
                base_url=llm_server.openai_base_url,
                stream=stream,
                **options,
            )
        else:
            model = OpenAIResponsesModel(
                name,
                api_key="test-key",
                base_url=llm_server.openai_base_url,
                stream=stream,
                **options,
            )
        created.append(model)
        return model

    yield make
    for model in created:
        await model.aclose()
