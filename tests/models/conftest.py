"""Fixtures for the adapter tests: one fake LLM server per session, models pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from planner.models import AnthropicModel, OpenAIChatModel, OpenAIResponsesModel
from planner.models.pricing import ModelPrice, price_table
from planner.models.retry import RetryPolicy
from tests.fakes.llm_server import FakeLLMServer

KINDS = ("anthropic", "chat", "responses")
MODEL_NAMES = {"anthropic": "claude-test", "chat": "gpt-test", "responses": "gpt-test"}
FAST_RETRY = RetryPolicy(max_attempts=4, initial_wait_s=0.01, max_wait_s=0.02, jitter_s=0.005)
TEST_PRICES = price_table(
    {
        "claude-test": ModelPrice(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75),
        "gpt-test": ModelPrice(input=1.25, output=10.0, cache_read=0.125, cache_write=0.0),
    }
)

AnyModel = AnthropicModel | OpenAIChatModel | OpenAIResponsesModel
MakeModel = Callable[..., AnyModel]


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
async def make_model(llm_server: FakeLLMServer) -> AsyncIterator[MakeModel]:
    """Build an adapter of a kind, aimed at the fake server, with fast retries."""
    created: list[AnyModel] = []

    def make(kind: str, *, stream: bool = False, **options: Any) -> AnyModel:
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("timeout_s", 5.0)
        options.setdefault("prices", TEST_PRICES)
        model: AnyModel
        if kind == "anthropic":
            model = AnthropicModel(
                MODEL_NAMES[kind],
                api_key="test-key",
                base_url=llm_server.base_url,
                stream=stream,
                **options,
            )
        elif kind == "chat":
            model = OpenAIChatModel(
                MODEL_NAMES[kind],
                api_key="test-key",
                base_url=llm_server.openai_base_url,
                stream=stream,
                **options,
            )
        else:
            model = OpenAIResponsesModel(
                MODEL_NAMES[kind],
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
