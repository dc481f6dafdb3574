"""A test kit for code built on mana-planner: a scripted model and a fake LLM server.

- `ScriptedModel(steps)`: answers each request with the next step (no network at all).
- `FakeLLMServer`: a local HTTP server speaking the Anthropic Messages, OpenAI Chat
  Completions and Responses wire formats (JSON and SSE), answering queued `Reply`s, including
  failures (`Reply.error(429, {"retry-after": "1"})`, `Reply.dropped()`, `Reply.slow(...)`).
  Point the official SDKs (or `build_adapter`) at `server.base_url` / `server.openai_base_url`.
- `pytest_plugins = ["planner.testing.pytest_plugin"]` gives the `llm_server` fixture.

The server module is imported on first use, so `import planner.testing` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from planner.models.scripted import ScriptedModel
from planner.testing.replies import FakeCall, RecordedRequest, Reply

if TYPE_CHECKING:
    from planner.testing.adapters import build_adapter
    from planner.testing.fake_llm import FakeLLMServer

_LAZY = {
    "FakeLLMServer": "planner.testing.fake_llm",
    "build_adapter": "planner.testing.adapters",
}

__all__ = [
    "FakeCall",
    "FakeLLMServer",
    "RecordedRequest",
    "Reply",
    "ScriptedModel",
    "build_adapter",
]


def __getattr__(name: str) -> Any:
    """Import the server (uvicorn, starlette) and the SDK adapters only when asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'planner.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
