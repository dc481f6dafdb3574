"""Anthropic Messages API adapter: mapping functions, and the call wrapped in retries."""

from __future__ import annotations

import copy
import functools
import time
from dataclasses import dataclass, field
from typing import Any

from anthropic import AsyncAnthropic

from planner.messages import (
    Message,
    ModelRequest,
    ModelResponse,
    ResponseStop,
    ToolCall,
    ToolSchema,
    Usage,
)
from planner.models.anthropic_output import (
    final_answer,
    output_choice,
    output_tool,
    output_tool_name,
)
from planner.models.base import emit_text
from planner.models.common import as_dict, parse_arguments, require_api_key
from planner.models.options import forced_tool, tool_choice_mode
from planner.models.pricing import CostMeter, PriceTable
from planner.models.retry import RetryPolicy, call_with_retries
from planner.models.text_calls import with_text_calls
from planner.tools import anthropic_tool, from_wire_name, to_wire_name

PROVIDER = "anthropic"
CACHE_CONTROL = {"type": "ephemeral"}
STOP_REASONS: dict[str, ResponseStop] = {
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "refusal": "refusal",
    "pause_turn": "pause_turn",
}

ANTHROPIC_CHOICE = {"required": "any"}
Block = dict[str, Any]
Turn = dict[str, Any]


# --- request mapping -------------------------------------------------------------------


def anthropic_params(
    request: ModelRequest,
    *,
    model: str,
    max_tokens: int,
    temperature: float | None = None,
    prompt_caching: bool = True,
    tool_choice: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments of `messages.create` for one request."""
    tools = [anthropic_tool(t) for t in request.tools]
    final = output_tool_name(request)
    if request.output is not None and final is not None:
        tools.append(output_tool(request.output, final))
    system: list[Block] = (
        [{"type": "text", "text": request.system_prompt}] if request.system_prompt else []
    )
    turns = anthropic_turns(request.stored_messages)
    if prompt_caching:
        # Breakpoints sit on stored content only, so reminders come after the cached prefix.
        for blocks in (tools, system, turns[-1]["content"] if turns else []):
            if blocks:
                blocks[-1]["cache_control"] = dict(CACHE_CONTROL)
    add_reminders(turns, request.reminders)
    params: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": turns}
    if system:
        params["system"] = system
    if tools:
        params["tools"] = tools
        choice = anthropic_tool_choice(tool_choice, request.tools)
        if final is not None:
            choice = output_choice(request, final)
        if choice is not None:
            params["tool_choice"] = choice
    if temperature is not None:
        # The SDK dropped `temperature` from its signature; the API still takes it.
        params["extra_body"] = {"temperature": temperature}
    return params


def anthropic_tool_choice(choice: str | None, offered: tuple[ToolSchema, ...]) -> Block | None:
    """`tool_choice` when one is set (`required` is Anthropic's `any`); a tool name forces it."""
    wire = forced_tool(choice, offered)
    if wire is not None:
        return {"type": "tool", "name": wire}
    mode = tool_choice_mode(choice)
    if mode is None:
        return None
    return {"type": ANTHROPIC_CHOICE.get(mode, mode)}


def anthropic_turns(messages: tuple[Message, ...]) -> list[Turn]:
    """Stored history as alternating user/assistant turns; a round's tool results share one turn."""
    turns: list[Turn] = []

    def add(role: str, block: Block) -> None:
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].append(block)
        else:
            turns.append({"role": role, "content": [block]})

    for m in messages:
        if m.role == "assistant":
            if m.content:
                add("assistant", {"type": "text", "text": m.content})
            for call in m.tool_calls:
                add("assistant", tool_use_block(call))
        elif m.role == "tool":
            add("user", tool_result_block(m))
        elif m.content:
            add("user", {"type": "text", "text": m.content})
    return turns


def tool_use_block(call: ToolCall) -> Block:
    """An assistant tool_use block for a call in history."""
    return {
        "type": "tool_use",
        "id": call.id,
        "name": to_wire_name(call.name),
        "input": call.arguments,
    }


def tool_result_block(message: Message) -> Block:
    """A user tool_result block for a tool message; is_error only on failure."""
    block: Block = {
        "type": "tool_result",
        "tool_use_id": message.tool_call_id or "",
        "content": message.content,
    }
    if message.is_error:
        block["is_error"] = True
    return block


def add_reminders(turns: list[Turn], reminders: tuple[Message, ...]) -> None:
    """Append reminder text blocks at the end of the final user turn (no mid-chat system)."""
    if not reminders:
        return
    blocks = [{"type": "text", "text": r.content} for r in reminders]
    if turns and turns[-1]["role"] == "user":
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": "user", "content": blocks})


def continuation_params(params: dict[str, Any], content: list[Block]) -> dict[str, Any]:
    """The request that lets a paused turn go on: the same messages plus the partial answer."""
    assistant = {"role": "assistant", "content": [block_param(b) for b in content]}
    return {**params, "messages": [*params["messages"], assistant]}


def block_param(block: Block) -> Block:
    """A response content block as a request block (tool input parsed back to an object)."""
    param = copy.deepcopy(block)
    if param.get("type") in ("tool_use", "server_tool_use") and not isinstance(
        param.get("input"), dict
    ):
        param["input"] = parse_arguments(param.get("input"))[0]
    return param


# --- response mapping ------------------------------------------------------------------


@dataclass
class AnthropicTurn:
    """One provider answer as plain data: content blocks, stop reason, usage, model."""

    content: list[Block] = field(default_factory=list)
    stop_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    model: str = ""


def turn_from_message(message: Any) -> AnthropicTurn:
    """An AnthropicTurn from a non-streaming `Message`."""
    data = as_dict(message)
    return AnthropicTurn(
        content=list(data.get("content", [])),
        stop_reason=data.get("stop_reason"),
        usage=dict(data.get("usage", {})),
        model=str(data.get("model", "")),
    )


class StreamFold:
    """Builds an AnthropicTurn from raw stream events.

    Tool input stays the raw JSON text until the end: broken or cut-off JSON becomes an
    arguments_error instead of a crash or a silently truncated object (the SDK's stream
    helper parses partial JSON as it arrives, so it would do one or the other).
    """

    def __init__(self) -> None:
        self.turn = AnthropicTurn()
        self._json: dict[int, list[str]] = {}

    def add(self, event: dict[str, Any]) -> None:
        """Fold one event (as a dict) into the turn."""
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message", {})
            self.turn.model = str(message.get("model", ""))
            self.turn.usage = {k: v for k, v in message.get("usage", {}).items() if v is not None}
        elif kind == "content_block_start":
            block = dict(event["content_block"])
            if block.get("type") in ("tool_use", "server_tool_use"):
                self._json[event["index"]] = []
            self.turn.content.append(block)
        elif kind == "content_block_delta":
            self._delta(event["index"], event["delta"])
        elif kind == "message_delta":
            self.turn.stop_reason = event.get("delta", {}).get("stop_reason")
            usage = event.get("usage", {})
            self.turn.usage.update({k: v for k, v in usage.items() if v is not None})

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        block = self.turn.content[index]
        kind = delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + delta.get("text", "")
            emit_text(delta.get("text", ""))
        elif kind == "input_json_delta" and index in self._json:
            self._json[index].append(delta.get("partial_json", ""))
        elif kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature", "")
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta.get("citation"))

    def finish(self) -> AnthropicTurn:
        """The folded turn, tool inputs left as their JSON text."""
        for index, parts in self._json.items():
            if parts:
                self.turn.content[index]["input"] = "".join(parts)
        return self.turn


def response_parts(
    content: list[Block], output_tool: str | None = None
) -> tuple[str, tuple[ToolCall, ...]]:
    """Text and tool calls of an answer's content blocks; a call of the final-answer tool
    `output_tool` is the answer (see anthropic_output), its input replacing the text."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in content:
        if block.get("type") == "text":
            texts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_use" and block.get("name") != output_tool:
            arguments, error = parse_arguments(block.get("input"))
            calls.append(
                ToolCall(
                    id=str(block.get("id", "")),
                    name=from_wire_name(str(block.get("name", ""))),
                    arguments=arguments,
                    arguments_error=error,
                )
            )
    answer = final_answer(content, output_tool)
    return ("".join(texts) if answer is None else answer), tuple(calls)


def usage_of(usage: dict[str, Any]) -> Usage:
    """Provider usage as Usage (input_tokens excludes cache reads and writes)."""
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
        cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0),
    )


def stop_of(reason: str | None) -> ResponseStop:
    """The provider-neutral stop reason."""
    return STOP_REASONS.get(reason or "", "other")


# --- the adapter -----------------------------------------------------------------------


class AnthropicModel:
    """Claude over the Messages API (AsyncAnthropic), non-streaming or streaming."""

    def __init__(
        self,
        model: str,
        client: AsyncAnthropic | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_tokens: int = 8192,
        temperature: float | None = None,
        stream: bool = False,
        prompt_caching: bool = True,
        timeout_s: float = 600.0,
        retry: RetryPolicy | None = None,
        prices: PriceTable | None = None,
        max_continuations: int = 5,
        tool_choice: str | None = None,
        tool_calls_from_text: bool = False,
    ) -> None:
        self.model = model
        self.tool_choice = tool_choice
        self.tool_calls_from_text = tool_calls_from_text
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.stream = stream
        self.prompt_caching = prompt_caching
        self.retry = retry or RetryPolicy()
        self.max_continuations = max_continuations
        self._meter = CostMeter(model, prices)
        self._owns_client = client is None
        if client is None:
            client = AsyncAnthropic(
                api_key=require_api_key(api_key, "ANTHROPIC_API_KEY", PROVIDER),
                base_url=base_url,
                timeout=timeout_s,
                max_retries=0,
            )
        else:
            client = client.with_options(max_retries=0)
        self._client = client

    @property
    def model_id(self) -> str:
        """`anthropic:<model>`."""
        return f"{PROVIDER}:{self.model}"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Send one request (continuing a paused turn in place) and map the answer back."""
        started = time.perf_counter()
        first = anthropic_params(
            request,
            model=self.model,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            prompt_caching=self.prompt_caching,
            tool_choice=self.tool_choice,
        )
        params = first
        content: list[Block] = []
        usage = Usage()
        turn = AnthropicTurn()
        for _ in range(self.max_continuations + 1):
            send = functools.partial(self._send, params)
            turn = await call_with_retries(PROVIDER, "messages.create", send, self.retry)
            content.extend(turn.content)
            usage = usage + usage_of(turn.usage)
            if turn.stop_reason != "pause_turn":
                break
            params = continuation_params(first, content)
        final = output_tool_name(request)
        text, calls = response_parts(content, final)
        stop = stop_of(turn.stop_reason)
        if final is not None and not calls and stop == "tool_use":
            stop = "end_turn"  # the answer came as the final-answer tool's input
        if self.tool_calls_from_text:
            text, calls, stop = with_text_calls((text, calls, stop), request.tools)
        return ModelResponse(
            text=text,
            tool_calls=calls,
            stop_reason=stop,
            usage=self._meter.priced(usage, turn.model),
            model=turn.model or self.model,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    async def _send(self, params: dict[str, Any]) -> AnthropicTurn:
        """One HTTP call, streamed or not."""
        if not self.stream:
            return turn_from_message(await self._client.messages.create(**params))
        fold = StreamFold()
        events = await self._client.messages.create(**params, stream=True)
        async with events:
            async for event in events:
                fold.add(as_dict(event))
        return fold.finish()

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter created it."""
        if self._owns_client:
            await self._client.close()
