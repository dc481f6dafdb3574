"""A test kit for code built on mana-planner: a scripted model and a fake LLM server.

- `ScriptedModel(steps)`: answers each request with the next step (no network at all).
- `FakeLLMServer`: a local HTTP server speaking the Anthropic Messages, OpenAI Chat
  Completions and Responses wire formats (JSON and SSE), answering queued `Reply`s, including
  failures (`Reply.error(429, {"retry-after": "1"})`, `Reply.dropped()`, `Reply.slow(...)`),
  and structured answers (`Reply(output={...})`, sent only to a request that asks for
  structured output natively: a 400 otherwise).
  Point the official SDKs (or `build_adapter`) at `server.base_url` / `server.openai_base_url`.
- `pytest_plugins = ["planner.testing.pytest_plugin"]` gives the `llm_server` fixture.

More in docs/models.md, "Testing without a network".
"""

from planner.models.scripted import ScriptedModel
from planner.testing.adapters import build_adapter
from planner.testing.fake_llm import FakeLLMServer
from planner.testing.replies import FakeCall, RecordedRequest, Reply

__all__ = [
    "FakeCall",
    "FakeLLMServer",
    "RecordedRequest",
    "Reply",
    "ScriptedModel",
    "build_adapter",
]
