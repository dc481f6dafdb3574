"""OpenAI Chat Completions adapter; with base_url, any OpenAI-compatible server."""

from __future__ import annotations

import time
from typing import Any, Literal

from openai import AsyncOpenAI

from planner.errors import ModelError
from planner.messages import (
    ModelRequest,
    ModelResponse,
    ResponseStop,
    ToolCall,
    ToolSchema,
    Usage,
)
from planner.models.base import emit_text
from planner.models.common import arguments_json, as_dict, parse_arguments
from planner.models.openai_client import OpenAIAdapter, SystemRole, json_schema_format
from planner.models.options import forced_tool, tool_choice_mode
from planner.models.pricing import PriceTable
from planner.models.retry import RetryPolicy, call_with_retries
from planner.tools import from_wire_name, openai_chat_tool, to_wire_name

PROVIDER = "openai"
MaxTokensParam = Literal["max_completion_tokens", "max_tokens"]
FINISH_REASONS: dict[str, ResponseStop] = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "refusal",
}
"""Sent when base_url points at a server that needs no key (Ollama, vLLM, llama.cpp)."""


# --- request mapping -------------------------------------------------------------------


def chat_messages(
    request: ModelRequest, system_role: SystemRole = "system"
) -> list[dict[str, Any]]:
    """The `messages` list: system prompt, history, then this request's reminders."""
    out: list[dict[str, Any]] = []
    if request.system_prompt:
        out.append({"role": system_role, "content": request.system_prompt})
    for m in request.stored_messages:
        if m.role == "assistant":
            message: dict[str, Any] = {"role": "assistant", "content": m.content or None}
            if m.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {
                            "name": to_wire_name(call.name),
                            "arguments": arguments_json(call.arguments),
                        },
                    }
                    for call in m.tool_calls
                ]
            elif not m.content:
                message["content"] = ""
            out.append(message)
        elif m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content})
        elif m.role == "system":
            out.append({"role": system_role, "content": m.content})
        else:
            out.append({"role": "user", "content": m.content})
    out.extend({"role": system_role, "content": r.content} for r in request.reminders)
    return out


def chat_params(
    request: ModelRequest,
    *,
    model: str,
    max_tokens: int | None = None,
    max_tokens_param: MaxTokensParam = "max_completion_tokens",
    temperature: float | None = None,
    system_role: SystemRole = "system",
    stream: bool = False,
    tool_choice: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments of `chat.completions.create` / `.stream` for one request."""
    params: dict[str, Any] = {"model": model, "messages": chat_messages(request, system_role)}
    if request.tools:
        params["tools"] = [openai_chat_tool(t) for t in request.tools]
        params["tool_choice"] = chat_tool_choice(tool_choice, request.tools)
    if max_tokens is not None:
        params[max_tokens_param] = max_tokens
    if temperature is not None:
        params["temperature"] = temperature
    if stream:
        params["stream_options"] = {"include_usage": True}
    if request.output is not None:
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": json_schema_format(request.output),
        }
    return params


def chat_tool_choice(choice: str | None, offered: tuple[ToolSchema, ...]) -> Any:
    """`tool_choice`: `auto` unless set; a tool's name forces that tool (when it is offered)."""
    wire = forced_tool(choice, offered)
    if wire is not None:
        return {"type": "function", "function": {"name": wire}}
    return tool_choice_mode(choice) or "auto"


# --- response mapping ------------------------------------------------------------------


def chat_response_parts(
    completion: dict[str, Any],
) -> tuple[str, tuple[ToolCall, ...], ResponseStop]:
    """Text, tool calls and stop reason of a completion (as a dict)."""
    choices = completion.get("choices") or []
    if not choices:
        raise ModelError(f"{PROVIDER}: the completion has no choices: {str(completion)[:300]}")
    choice = choices[0]
    message = choice.get("message") or {}
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        arguments, error = parse_arguments(function.get("arguments"))
        calls.append(
            ToolCall(
                id=str(call.get("id", "")),
                name=from_wire_name(str(function.get("name", ""))),
                arguments=arguments,
                arguments_error=error,
            )
        )
    refusal = message.get("refusal")
    text = message.get("content") or refusal or ""
    stop = FINISH_REASONS.get(choice.get("finish_reason") or "", "other")
    if refusal:
        stop = "refusal"
    return str(text), tuple(calls), stop


def chat_usage(usage: dict[str, Any] | None) -> Usage:
    """Usage of a completion; input_tokens excludes cached tokens, as with Anthropic."""
    usage = usage or {}
    details = usage.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    written = int(details.get("cache_write_tokens") or 0)
    return Usage(
        input_tokens=max(0, int(usage.get("prompt_tokens") or 0) - cached - written),
        output_tokens=int(usage.get("completion_tokens") or 0),
        cache_read_tokens=cached,
        cache_write_tokens=written,
    )


# --- the adapter -----------------------------------------------------------------------


class OpenAIChatModel(OpenAIAdapter):
    """A model over Chat Completions: OpenAI, or any compatible server via base_url."""

    provider = PROVIDER

    def __init__(
        self,
        model: str,
        client: AsyncOpenAI | None = None,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        max_tokens: int | None = None,
        max_tokens_param: MaxTokensParam = "max_completion_tokens",
        temperature: float | None = None,
        stream: bool = False,
        system_role: SystemRole = "system",
        timeout_s: float = 600.0,
        retry: RetryPolicy | None = None,
        prices: PriceTable | None = None,
        tool_choice: str | None = None,
        tool_calls_from_text: bool = False,
    ) -> None:
        super().__init__(
            model,
            client,
            base_url,
            api_key=api_key,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=stream,
            system_role=system_role,
            timeout_s=timeout_s,
            retry=retry,
            prices=prices,
            tool_choice=tool_choice,
            tool_calls_from_text=tool_calls_from_text,
        )
        self.max_tokens_param: MaxTokensParam = max_tokens_param

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Send one request and map the answer back."""
        started = time.perf_counter()
        params = chat_params(
            request,
            model=self.model,
            max_tokens=self.max_tokens,
            max_tokens_param=self.max_tokens_param,
            temperature=self.temperature,
            system_role=self.system_role,
            stream=self.stream,
            tool_choice=self.tool_choice,
        )
        completion = await call_with_retries(
            PROVIDER, "chat.completions.create", lambda: self._send(params), self.retry
        )
        usage = chat_usage(completion.get("usage"))
        parts = chat_response_parts(completion)
        return self.answer(started, parts, usage, completion.get("model"), request.tools)

    async def _send(self, params: dict[str, Any]) -> dict[str, Any]:
        """One HTTP call through the SDK (its stream helper when streaming), as a dict."""
        if self.stream:
            async with self._client.chat.completions.stream(**params) as stream:
                async for event in stream:
                    if event.type == "content.delta":
                        emit_text(event.delta)
                # get_final_completion() raises on a `length` or `content_filter` finish.
                return as_dict(stream.current_completion_snapshot)
        return as_dict(await self._client.chat.completions.create(**params))
