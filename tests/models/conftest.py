"""Fixtures for the adapter tests: one fake LLM server per session, models pointed at it."""

from __future__ import annotations

from typing import Any

import pytest

from planner.models.pricing import ModelPrice, price_table
from planner.models.retry import RetryPolicy
from planner.testing import FakeLLMServer
from planner.testing.adapters import AnyModel, MakeModel, build_adapter

KINDS = ("anthropic", "chat", "responses")
MODEL_NAMES = {"anthropic": "claude-test", "chat": "gpt-test", "responses": "gpt-test"}
FAST_RETRY = RetryPolicy(max_attempts=4, initial_wait_s=0.01, max_wait_s=0.02, jitter_s=0.005)
TEST_PRICES = price_table(
    {
        "claude-test": ModelPrice(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75),
        "gpt-test": ModelPrice(input=1.25, output=10.0, cache_read=0.125, cache_write=0.0),
    }
)


@pytest.fixture
def make_model(llm_server: FakeLLMServer, adapters: list[AnyModel]) -> MakeModel:
    """Build an adapter of a kind, aimed at the fake server, with fast retries."""

    def make(kind: str, *, stream: bool = False, **options: Any) -> AnyModel:
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("timeout_s", 5.0)
        options.setdefault("prices", TEST_PRICES)
        model = build_adapter(kind, llm_server, MODEL_NAMES[kind], stream=stream, **options)
        adapters.append(model)
        return model

    return make
