"""Pytest fixtures for testing against the fake LLM server: `llm_server` and `adapters`.

Enable it in a `conftest.py`::

    pytest_plugins = ["planner.testing.pytest_plugin"]

Then a test asks for `llm_server` (one server per session, emptied before and after each
test), queues replies and points a real adapter at it::

    async def test_answer(llm_server, adapters):
        llm_server.push(Reply(text="hi"))
        model = build_adapter("chat", llm_server, "gpt-test")
        adapters.append(model)  # closed after the test
        ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from planner.testing.adapters import AnyModel
from planner.testing.fake_llm import FakeLLMServer


@pytest.fixture(scope="session")
def llm_server_session() -> Iterator[FakeLLMServer]:
    """The fake server, started once per test session."""
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
