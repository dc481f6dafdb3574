"""What the two OpenAI adapters share: the SDK client, retries, prices and the answer."""

from __future__ import annotations

import os
import time
from typing import Any, ClassVar, Literal

from openai import AsyncOpenAI

from planner.errors import MissingApiKeyError
from planner.messages import ModelResponse, OutputSchema, ResponseStop, ToolCall, ToolSchema, Usage
from planner.models.pricing import CostMeter, PriceTable
from planner.models.retry import RetryPolicy
from planner.models.text_calls import with_text_calls

SystemRole = Literal["system", "developer"]
LOCAL_SERVER_KEY = "unused"
SCHEMA_NAME_LENGTH = 64


def json_schema_format(output: OutputSchema) -> dict[str, Any]:
    """The `json_schema` structured-output body both OpenAI APIs take (name, schema, strict)."""
    body: dict[str, Any] = {
        "name": output.name[:SCHEMA_NAME_LENGTH],
        "schema": output.json_schema,
        "strict": output.strict,
    }
    if output.description:
        body["description"] = output.description
    return body


def make_openai_client(
    api_key: str | None, base_url: str | None, timeout_s: float, provider: str
) -> AsyncOpenAI:
    """An AsyncOpenAI with SDK retries off; a key is required unless a base_url is set."""
    base = base_url or os.environ.get("OPENAI_BASE_URL") or None
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if not key:
        if base is None:
            raise MissingApiKeyError("OPENAI_API_KEY", provider)
        key = LOCAL_SERVER_KEY
    return AsyncOpenAI(api_key=key, base_url=base, timeout=timeout_s, max_retries=0)


class OpenAIAdapter:
    """Base of the Chat Completions and Responses adapters (each sets `provider`)."""

    provider: ClassVar[str]

    def __init__(
        self,
        model: str,
        client: AsyncOpenAI | None,
        base_url: str | None,
        *,
        api_key: str | None,
        max_tokens: int | None,
        temperature: float | None,
        stream: bool,
        system_role: SystemRole,
        timeout_s: float,
        retry: RetryPolicy | None,
        prices: PriceTable | None,
        tool_choice: str | None = None,
        tool_calls_from_text: bool = False,
    ) -> None:
        self.model = model
        self.tool_choice = tool_choice
        self.tool_calls_from_text = tool_calls_from_text
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.stream = stream
        self.system_role: SystemRole = system_role
        self.retry = retry or RetryPolicy()
        self._meter = CostMeter(model, prices)
        self._owns_client = client is None
        if client is None:
            client = make_openai_client(api_key, base_url, timeout_s, self.provider)
        else:
            client = client.with_options(max_retries=0)
        self._client = client

    @property
    def model_id(self) -> str:
        """`<provider>:<model>`."""
        return f"{self.provider}:{self.model}"

    def answer(
        self,
        started: float,
        parts: tuple[str, tuple[ToolCall, ...], ResponseStop],
        usage: Usage,
        reported: str | None,
        offered: tuple[ToolSchema, ...] = (),
    ) -> ModelResponse:
        """The provider-neutral response, priced for the model the server reports."""
        if self.tool_calls_from_text:
            parts = with_text_calls(parts, offered)
        text, calls, stop = parts
        model = reported or self.model
        return ModelResponse(
            text=text,
            tool_calls=calls,
            stop_reason=stop,
            usage=self._meter.priced(usage, model),
            model=model,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter created it."""
        if self._owns_client:
            await self._client.close()
