"""Fixtures for the end-to-end tests: the fake LLM server and real adapters aimed at it."""

from __future__ import annotations

from typing import Any

import pytest

from planner.models.retry import RetryPolicy
from planner.testing import FakeLLMServer
from planner.testing.adapters import AnyModel, MakeModel, build_adapter

KINDS = ("anthropic", "chat", "responses")
MODEL_NAMES = {"anthropic": "claude-haiku-4-5", "chat": "gpt-5-mini", "responses": "gpt-5-mini"}
"""Ids priced in configs/models.toml, so usage carries a real cost."""
FAST_RETRY = RetryPolicy(max_attempts=3, initial_wait_s=0.01, max_wait_s=0.02, jitter_s=0.005)


@pytest.fixture
def make_model(llm_server: FakeLLMServer, adapters: list[AnyModel]) -> MakeModel:
    """Build a real adapter of a kind, aimed at the fake server, with fast retries."""

    def make(kind: str, *, stream: bool = False, **options: Any) -> AnyModel:
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("timeout_s", 10.0)
        name = options.pop("model", MODEL_NAMES[kind])
        model = build_adapter(kind, llm_server, name, stream=stream, **options)
        adapters.append(model)
        return model

    return make
