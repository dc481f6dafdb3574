"""The fake server's OpenAI wire formats: Chat Completions and Responses, JSON and SSE."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from planner.testing.replies import JSON_PIECE, TEXT_PIECE, FakeCall, Reply, pieces, sse


def prompt_usage(reply: Reply) -> tuple[int, dict[str, int]]:
    """OpenAI's prompt token count (cached included) and its details."""
    prompt = reply.input_tokens + reply.cache_read_tokens + reply.cache_write_tokens
    details: dict[str, int] = {"cached_tokens": reply.cache_read_tokens}
    if reply.cache_write_tokens:
        details["cache_write_tokens"] = reply.cache_write_tokens
    return prompt, details


class ChatRender:
    """OpenAI Chat Completions: a chat.completion, or chunks ending in `data: [DONE]`."""

    FINISH: ClassVar[dict[str, str]] = {
        "end_turn": "stop",
        "tool_use": "tool_calls",
        "max_tokens": "length",
        "refusal": "stop",
        "pause_turn": "stop",
    }

    @staticmethod
    def _usage(reply: Reply) -> dict[str, Any]:
        prompt, details = prompt_usage(reply)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": reply.output_tokens,
            "total_tokens": prompt + reply.output_tokens,
            "prompt_tokens_details": details,
        }

    @staticmethod
    def _call_id(call: FakeCall, n: int, i: int) -> str:
        return call.id or f"call_{n:03d}_{i}"

    def _head(self, reply: Reply, body: dict[str, Any], n: int, obj: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{n:03d}",
            "object": obj,
            "created": 1_700_000_000,
            "model": reply.model or body.get("model", ""),
        }

    def json(self, reply: Reply, body: dict[str, Any], n: int) -> dict[str, Any]:
        """The chat.completion object."""
        refused = reply.stop_reason() == "refusal"
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if refused else (reply.text or None),
            "refusal": reply.text if refused else None,
        }
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": self._call_id(call, n, i),
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_text()},
                }
                for i, call in enumerate(reply.tool_calls)
            ]
        choice = {
            "index": 0,
            "message": message,
            "finish_reason": self.FINISH[reply.stop_reason()],
            "logprobs": None,
        }
        return {
            **self._head(reply, body, n, "chat.completion"),
            "choices": [choice],
            "usage": self._usage(reply),
        }

    def stream(self, reply: Reply, body: dict[str, Any], n: int) -> Iterator[str]:
        """chat.completion.chunk events, a usage chunk if asked for, then [DONE]."""
        head = self._head(reply, body, n, "chat.completion.chunk")

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
            return sse(None, {**head, "choices": [choice]})

        yield chunk({"role": "assistant", "content": ""})
        key = "refusal" if reply.stop_reason() == "refusal" else "content"
        for piece in pieces(reply.text, TEXT_PIECE):
            yield chunk({key: piece})
        for i, call in enumerate(reply.tool_calls):
            first = {
                "index": i,
                "id": self._call_id(call, n, i),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            yield chunk({"tool_calls": [first]})
            for piece in pieces(call.arguments_text(), JSON_PIECE):
                yield chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
        yield chunk({}, self.FINISH[reply.stop_reason()])
        if (body.get("stream_options") or {}).get("include_usage"):
            yield sse(None, {**head, "choices": [], "usage": self._usage(reply)})
        yield sse(None, "[DONE]")


class ResponsesRender:
    """OpenAI Responses: a response object, or typed events with sequence_number."""

    @staticmethod
    def _usage(reply: Reply) -> dict[str, Any]:
        prompt, details = prompt_usage(reply)
        return {
            "input_tokens": prompt,
            "input_tokens_details": details,
            "output_tokens": reply.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + reply.output_tokens,
        }

    @staticmethod
    def _items(reply: Reply, n: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if reply.text:
            if reply.stop_reason() == "refusal":
                part: dict[str, Any] = {"type": "refusal", "refusal": reply.text}
            else:
                part = {"type": "output_text", "text": reply.text, "annotations": []}
            items.append(
                {
                    "type": "message",
                    "id": f"msg_{n:03d}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [part],
                }
            )
        for i, call in enumerate(reply.tool_calls):
            items.append(
                {
                    "type": "function_call",
                    "id": f"fc_{n:03d}_{i}",
                    "call_id": call.id or f"call_{n:03d}_{i}",
                    "name": call.name,
                    "arguments": call.arguments_text(),
                    "status": "completed",
                }
            )
        return items

    def _response(
        self, reply: Reply, body: dict[str, Any], n: int, *, final: bool
    ) -> dict[str, Any]:
        stop = reply.stop_reason()
        incomplete = {"max_tokens": "max_output_tokens"}.get(stop)
        status = "in_progress" if not final else ("incomplete" if incomplete else "completed")
        return {
            "id": f"resp_{n:03d}",
            "object": "response",
            "created_at": 1_700_000_000,
            "status": status,
            "model": reply.model or body.get("model", ""),
            "output": self._items(reply, n) if final else [],
            "incomplete_details": {"reason": incomplete} if final and incomplete else None,
            "error": None,
            "instructions": None,
            "metadata": {},
            "parallel_tool_calls": True,
            "temperature": 1.0,
            "top_p": 1.0,
            "tool_choice": "auto",
            "tools": body.get("tools", []),
            "store": body.get("store", True),
            "text": {"format": {"type": "text"}},
            "usage": self._usage(reply) if final else None,
        }

    def json(self, reply: Reply, body: dict[str, Any], n: int) -> dict[str, Any]:
        """The response object."""
        return self._response(reply, body, n, final=True)

    def stream(self, reply: Reply, body: dict[str, Any], n: int) -> Iterator[str]:
        """response.created ... output items with deltas ... response.completed/incomplete."""
        seq = itertools.count(0)

        def event(kind: str, **data: Any) -> str:
            return sse(kind, {"type": kind, "sequence_number": next(seq), **data})

        yield event("response.created", response=self._response(reply, body, n, final=False))
        yield event("response.in_progress", response=self._response(reply, body, n, final=False))
        for index, item in enumerate(self._items(reply, n)):
            if item["type"] == "message":
                yield from self._message_events(event, item, index)
            else:
                yield from self._call_events(event, item, index)
        final = self._response(reply, body, n, final=True)
        kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        yield event(kind, response=final)

    @staticmethod
    def _message_events(
        event: Callable[..., str], item: dict[str, Any], index: int
    ) -> Iterator[str]:
        part = item["content"][0]
        ids = {"item_id": item["id"], "output_index": index}
        yield event(
            "response.output_item.added",
            output_index=index,
            item={**item, "status": "in_progress", "content": []},
        )
        if part["type"] == "refusal":
            empty: dict[str, Any] = {"type": "refusal", "refusal": ""}
            yield event("response.content_part.added", **ids, content_index=0, part=empty)
            for piece in pieces(part["refusal"], TEXT_PIECE):
                yield event("response.refusal.delta", **ids, content_index=0, delta=piece)
            yield event("response.refusal.done", **ids, content_index=0, refusal=part["refusal"])
        else:
            empty = {"type": "output_text", "text": "", "annotations": []}
            yield event("response.content_part.added", **ids, content_index=0, part=empty)
            for piece in pieces(part["text"], TEXT_PIECE):
                yield event(
                    "response.output_text.delta", **ids, content_index=0, delta=piece, logprobs=[]
                )
            yield event(
                "response.output_text.done", **ids, content_index=0, text=part["text"], logprobs=[]
            )
        yield event("response.content_part.done", **ids, content_index=0, part=part)
        yield event("response.output_item.done", output_index=index, item=item)

    @staticmethod
    def _call_events(event: Callable[..., str], item: dict[str, Any], index: int) -> Iterator[str]:
        ids = {"item_id": item["id"], "output_index": index}
        yield event(
            "response.output_item.added",
            output_index=index,
            item={**item, "arguments": "", "status": "in_progress"},
        )
        for piece in pieces(item["arguments"], JSON_PIECE):
            yield event("response.function_call_arguments.delta", **ids, delta=piece)
        yield event(
            "response.function_call_arguments.done",
            **ids,
            name=item["name"],
            arguments=item["arguments"],
        )
        yield event("response.output_item.done", output_index=index, item=item)
