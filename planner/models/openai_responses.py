"""OpenAI Responses API adapter (stateless: the full input is sent every time)."""

from __future__ import annotations

import time
from typing import Any

from openai import AsyncOpenAI
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseFailedEvent,
    ResponseIncompleteEvent,
)

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
from planner.tools import from_wire_name, openai_responses_tool, to_wire_name

PROVIDER = "openai-responses"
FINAL_EVENTS = (ResponseCompletedEvent, ResponseIncompleteEvent, ResponseFailedEvent)
INCOMPLETE_REASONS: dict[str, ResponseStop] = {
    "max_output_tokens": "max_tokens",
    "content_filter": "refusal",
}


# --- request mapping -------------------------------------------------------------------


def responses_input(
    request: ModelRequest, system_role: SystemRole = "developer"
) -> list[dict[str, Any]]:
    """The `input` items: system prompt, history, then this request's reminders."""
    items: list[dict[str, Any]] = []

    def message(role: str, content: str) -> None:
        items.append({"type": "message", "role": role, "content": content})

    if request.system_prompt:
        message(system_role, request.system_prompt)
    for m in request.stored_messages:
        if m.role == "assistant":
            if m.content:
                message("assistant", m.content)
            items.extend(
                {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": to_wire_name(call.name),
                    "arguments": arguments_json(call.arguments),
                }
                for call in m.tool_calls
            )
        elif m.role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": m.tool_call_id or "",
                    "output": m.content,
                }
            )
        elif m.role == "system":
            message(system_role, m.content)
        else:
            message("user", m.content)
    for r in request.reminders:
        message(system_role, r.content)
    return items


def responses_params(
    request: ModelRequest,
    *,
    model: str,
    max_output_tokens: int | None = None,
    temperature: float | None = None,
    system_role: SystemRole = "developer",
    store: bool = False,
    tool_choice: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments of `responses.create` / `.stream` for one request."""
    params: dict[str, Any] = {
        "model": model,
        "input": responses_input(request, system_role),
        "store": store,
    }
    if request.tools:
        params["tools"] = [openai_responses_tool(t) for t in request.tools]
        params["tool_choice"] = responses_tool_choice(tool_choice, request.tools)
    if max_output_tokens is not None:
        params["max_output_tokens"] = max_output_tokens
    if temperature is not None:
        params["temperature"] = temperature
    if request.output is not None:
        params["text"] = {"format": {"type": "json_schema", **json_schema_format(request.output)}}
    return params


def responses_tool_choice(choice: str | None, offered: tuple[ToolSchema, ...]) -> Any:
    """`tool_choice`: `auto` unless set; a tool's name forces that tool (when it is offered)."""
    wire = forced_tool(choice, offered)
    if wire is not None:
        return {"type": "function", "name": wire}
    return tool_choice_mode(choice) or "auto"


# --- response mapping ------------------------------------------------------------------


def responses_parts(response: dict[str, Any]) -> tuple[str, tuple[ToolCall, ...], ResponseStop]:
    """Text, tool calls and stop reason of a response (as a dict)."""
    if response.get("status") == "failed":
        error = response.get("error") or {}
        raise ModelError(
            f"{PROVIDER}: the response failed: {error.get('code', 'error')}: "
            f"{error.get('message', 'no message')}"
        )
    texts: list[str] = []
    calls: list[ToolCall] = []
    refused = False
    for item in response.get("output") or []:
        if item.get("type") == "message":
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    texts.append(str(part.get("text", "")))
                elif part.get("type") == "refusal":
                    texts.append(str(part.get("refusal", "")))
                    refused = True
        elif item.get("type") == "function_call":
            arguments, error_text = parse_arguments(item.get("arguments"))
            calls.append(
                ToolCall(
                    id=str(item.get("call_id", "")),
                    name=from_wire_name(str(item.get("name", ""))),
                    arguments=arguments,
                    arguments_error=error_text,
                )
            )
    stop: ResponseStop
    if response.get("status") == "incomplete":
        reason = (response.get("incomplete_details") or {}).get("reason") or ""
        stop = INCOMPLETE_REASONS.get(reason, "other")
    elif refused:
        stop = "refusal"
    else:
        stop = "tool_use" if calls else "end_turn"
    return "".join(texts), tuple(calls), stop


def responses_usage(usage: dict[str, Any] | None) -> Usage:
    """Usage of a response; input_tokens excludes cached tokens, as with Anthropic."""
    usage = usage or {}
    details = usage.get("input_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0)
    written = int(details.get("cache_write_tokens") or 0)
    return Usage(
        input_tokens=max(0, int(usage.get("input_tokens") or 0) - cached - written),
        output_tokens=int(usage.get("output_tokens") or 0),
        cache_read_tokens=cached,
        cache_write_tokens=written,
    )


# --- the adapter -----------------------------------------------------------------------


class OpenAIResponsesModel(OpenAIAdapter):
    """A model over the Responses API, with store=False and the whole history each call."""

    provider = PROVIDER

    def __init__(
        self,
        model: str,
        client: AsyncOpenAI | None = None,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stream: bool = False,
        system_role: SystemRole = "developer",
        store: bool = False,
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
        self.store = store

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Send one request and map the answer back."""
        started = time.perf_counter()
        params = responses_params(
            request,
            model=self.model,
            max_output_tokens=self.max_tokens,
            temperature=self.temperature,
            system_role=self.system_role,
            store=self.store,
            tool_choice=self.tool_choice,
        )
        response = await call_with_retries(
            PROVIDER, "responses.create", lambda: self._send(params), self.retry
        )
        usage = responses_usage(response.get("usage"))
        parts = responses_parts(response)
        return self.answer(started, parts, usage, response.get("model"), request.tools)

    async def _send(self, params: dict[str, Any]) -> dict[str, Any]:
        """One HTTP call through the SDK (its stream helper when streaming), as a dict."""
        if not self.stream:
            response = await self._client.responses.create(**params)
            return as_dict(response)
        final: dict[str, Any] | None = None
        async with self._client.responses.stream(**params) as stream:
            async for event in stream:
                # get_final_response() only knows `completed`; a max-tokens stop is `incomplete`.
                if isinstance(event, FINAL_EVENTS):
                    final = as_dict(event.response)
                elif event.type == "response.output_text.delta":
                    emit_text(event.delta)
        if final is None:
            raise ModelError(f"{PROVIDER}: the stream ended without a final response event")
        return final
