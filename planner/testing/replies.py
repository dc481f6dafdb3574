"""What the fake LLM server answers and records: scripted replies, calls and requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

API_PATHS = {
    "/v1/messages": "anthropic",
    "/v1/chat/completions": "chat",
    "/v1/responses": "responses",
}
TEXT_PIECE = 4
JSON_PIECE = 5


@dataclass
class FakeCall:
    """A tool call the fake model makes; string arguments go on the wire as they are."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_text(self) -> str:
        """The arguments as the JSON text a provider streams."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, separators=(",", ":"))


@dataclass
class Reply:
    """One scripted answer (or failure) of the fake server."""

    text: str = ""
    tool_calls: list[FakeCall] = field(default_factory=list)
    stop: str | None = None
    """end_turn | tool_use | max_tokens | refusal | pause_turn; default from tool_calls."""
    input_tokens: int = 12
    output_tokens: int = 7
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str | None = None
    error_message: str = "scripted error"
    drop: bool = False
    """Close the connection after part of the response (a reset mid-response)."""
    delay_s: float = 0.0
    stream_error: str | None = None
    """Anthropic streaming only: send an SSE `error` event of this type after message_start."""
    model: str | None = None
    output: Any = None
    """A structured answer: sent as JSON text (OpenAI) or as the final_result tool's input
    (Anthropic), and only when the request asks for structured output natively (else a 400).
    A string goes on the wire as it is (for answers that must fail validation)."""
    output_call_id: str | None = None
    """Anthropic: the id of the final_result tool call (default: generated)."""

    @classmethod
    def error(
        cls,
        status: int,
        headers: dict[str, str] | None = None,
        error_type: str | None = None,
        message: str = "scripted error",
    ) -> Reply:
        """An HTTP error reply."""
        return cls(
            status=status, headers=headers or {}, error_type=error_type, error_message=message
        )

    @classmethod
    def dropped(cls) -> Reply:
        """A reply whose connection closes mid-response."""
        return cls(drop=True)

    @classmethod
    def slow(cls, delay_s: float, **fields: Any) -> Reply:
        """A reply that starts only after `delay_s` seconds."""
        return cls(delay_s=delay_s, **fields)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        """A reply from JSON: the fields of Reply, tool_calls as {name, arguments, id} dicts."""
        data = dict(data)
        calls = [FakeCall(**c) for c in data.pop("tool_calls", [])]
        return cls(tool_calls=calls, **data)

    def stop_reason(self) -> str:
        """The neutral stop reason of this reply."""
        return self.stop or ("tool_use" if self.tool_calls else "end_turn")


ReplySource = Reply | Callable[["RecordedRequest"], Reply]


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    index: int
    api: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def stream(self) -> bool:
        """True when the client asked for SSE."""
        return self.body.get("stream") is True


def sse(event: str | None, data: dict[str, Any] | str) -> str:
    """One server-sent event."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


def pieces(text: str, size: int) -> list[str]:
    """`text` cut in chunks of `size` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)]


ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(api: str, reply: Reply) -> dict[str, Any]:
    """The provider's JSON error body for an error reply."""
    if api == "anthropic":
        kind = reply.error_type or ANTHROPIC_ERROR_TYPES.get(reply.status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": reply.error_message}}
    kind = reply.error_type or OPENAI_ERROR_TYPES.get(reply.status, "server_error")
    return {"error": {"message": reply.error_message, "type": kind, "param": None, "code": None}}
