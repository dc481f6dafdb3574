"""Provider-neutral conversation types shared by the loop and every model adapter."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.logging import content_allowed

Role = Literal["system", "user", "assistant", "tool"]
ResponseStop = Literal["end_turn", "tool_use", "max_tokens", "refusal", "pause_turn", "other"]


class Redacted:
    """Stands in for user content in a repr: its size, never the content."""

    __slots__ = ("size",)

    def __init__(self, value: Any) -> None:
        if isinstance(value, str):
            self.size = f"<{len(value)} chars>"
        elif hasattr(value, "__len__"):
            self.size = f"<{len(value)} items>"
        else:
            self.size = "<redacted>"

    def __repr__(self) -> str:
        return self.size


def redacted_repr_args(
    args: Iterable[tuple[str | None, Any]], content: frozenset[str]
) -> Iterator[tuple[str | None, Any]]:
    """A repr's (name, value) pairs with the `content` fields shown by size (unless opted in)."""
    if content_allowed():
        yield from args
        return
    for name, value in args:
        hidden = name in content and value is not None
        yield (name, Redacted(value)) if hidden else (name, value)


class ContentModel(BaseModel):
    """A model whose repr (what logs and tracebacks print) shows content fields by size only."""

    content_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        return redacted_repr_args(super().__repr_args__(), self.content_fields)


class ToolCall(ContentModel):
    """One tool call the model asked for, with its arguments already parsed."""

    model_config = ConfigDict(frozen=True)
    content_fields = frozenset({"arguments", "arguments_error"})

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    arguments_error: str | None = None
    """Set by an adapter when the provider sent arguments that are not valid JSON."""
    from_text: bool = False
    """Read from the model's text (the `tool_calls_from_text` option), not a native call."""


class Usage(BaseModel):
    """Token counts of one response or of a whole run."""

    model_config = ConfigDict(frozen=True)

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        """Sum two usages field by field."""
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens: what a token budget counts."""
        return self.input_tokens + self.output_tokens


class Message(ContentModel):
    """One conversation message; tool results carry the id of the call they answer."""

    model_config = ConfigDict(frozen=True)
    content_fields = frozenset({"content"})

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    transient: bool = False
    """True for reminder messages: sent in one request, never stored in history."""

    @property
    def text(self) -> str:
        """The message's text content."""
        return self.content

    def canonical(self) -> str:
        """A stable serialization, used to compare request prefixes byte for byte."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


class ToolSchema(BaseModel):
    """What a model is told about one tool: registry name, description, JSON Schema."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    input_schema: dict[str, Any]


class OutputSchema(BaseModel):
    """The typed final answer a run asks for: adapters send it as the provider's native
    structured output (a JSON-schema response format, or a forced final tool)."""

    model_config = ConfigDict(frozen=True)

    name: str
    json_schema: dict[str, Any]
    description: str = ""
    strict: bool = False
    """True when the schema already meets OpenAI's strict-mode rules."""


class ModelRequest(ContentModel):
    """Everything one model call receives. `messages` includes transient reminders."""

    model_config = ConfigDict(frozen=True)
    content_fields = frozenset({"system_prompt", "messages", "tools"})

    system_prompt: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSchema, ...] = ()
    round: int = 0
    output: OutputSchema | None = None
    """Set when the run's answer must validate into an output model."""

    @property
    def stored_messages(self) -> tuple[Message, ...]:
        """The history part of the request (everything but reminders)."""
        return tuple(m for m in self.messages if not m.transient)

    @property
    def reminders(self) -> tuple[Message, ...]:
        """The transient reminder messages of this request."""
        return tuple(m for m in self.messages if m.transient)


class ModelResponse(ContentModel):
    """One model answer in provider-neutral form."""

    model_config = ConfigDict(frozen=True)
    content_fields = frozenset({"text"})

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: ResponseStop = "end_turn"
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    latency_ms: float = 0.0

    def to_message(self) -> Message:
        """The assistant message this response appends to history."""
        return Message(role="assistant", content=self.text, tool_calls=self.tool_calls)


def tool_result_content(success: bool, message: str, data: Any = None) -> str:
    """The JSON body of a tool message: success, message and data when defined."""
    body: dict[str, Any] = {"success": success, "message": message}
    if data is not None:
        body["data"] = data
    return _COMPACT_JSON.encode(body)


_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""json.dumps with options builds an encoder per call; this one is built once."""


def reminder_message(text: str) -> Message:
    """Wrap one reminder as the transient system message sent for one request."""
    return Message(role="system", content=f"<reminder>{text}</reminder>", transient=True)
