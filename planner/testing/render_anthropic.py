"""The fake server's Anthropic Messages wire format: a Message object or its SSE stream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from planner.testing.replies import JSON_PIECE, TEXT_PIECE, FakeCall, Reply, pieces, sse


class AnthropicRender:
    """Anthropic Messages: a Message object, or the named-event SSE stream."""

    @staticmethod
    def _usage(reply: Reply) -> dict[str, int]:
        return {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_read_input_tokens": reply.cache_read_tokens,
            "cache_creation_input_tokens": reply.cache_write_tokens,
        }

    @staticmethod
    def _call_id(call: FakeCall, n: int, i: int) -> str:
        return call.id or f"toolu_{n:03d}_{i}"

    def json(self, reply: Reply, body: dict[str, Any], n: int) -> dict[str, Any]:
        """The Message object."""
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for i, call in enumerate(reply.tool_calls):
            content.append(
                {
                    "type": "tool_use",
                    "id": self._call_id(call, n, i),
                    "name": call.name,
                    "input": call.arguments,
                }
            )
        return {
            "id": f"msg_{n:03d}",
            "type": "message",
            "role": "assistant",
            "model": reply.model or body.get("model", ""),
            "content": content,
            "stop_reason": reply.stop_reason(),
            "stop_sequence": None,
            "usage": self._usage(reply),
        }

    def stream(self, reply: Reply, body: dict[str, Any], n: int) -> Iterator[str]:
        """message_start, content blocks with deltas, message_delta, message_stop."""
        usage = self._usage(reply)
        start: dict[str, Any] = {
            "id": f"msg_{n:03d}",
            "type": "message",
            "role": "assistant",
            "model": reply.model or body.get("model", ""),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1},
        }
        yield sse("message_start", {"type": "message_start", "message": start})
        if reply.stream_error:
            error = {"type": reply.stream_error, "message": reply.error_message}
            yield sse("error", {"type": "error", "error": error})
            return
        yield sse("ping", {"type": "ping"})
        index = 0
        if reply.text:
            text = [{"type": "text_delta", "text": p} for p in pieces(reply.text, TEXT_PIECE)]
            yield from _block(index, {"type": "text", "text": ""}, text)
            index += 1
        for i, call in enumerate(reply.tool_calls):
            block = {"type": "tool_use", "id": self._call_id(call, n, i), "name": call.name}
            json_pieces = ["", *pieces(call.arguments_text(), JSON_PIECE)]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in json_pieces]
            yield from _block(index, {**block, "input": {}}, deltas)
            index += 1
        yield sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason(), "stop_sequence": None},
                "usage": {"output_tokens": reply.output_tokens},
            },
        )
        yield sse("message_stop", {"type": "message_stop"})


def _block(index: int, block: dict[str, Any], deltas: list[dict[str, Any]]) -> Iterator[str]:
    """One content block as SSE: its start, each delta, its stop."""
    start = {"type": "content_block_start", "index": index, "content_block": block}
    yield sse("content_block_start", start)
    for delta in deltas:
        event = {"type": "content_block_delta", "index": index, "delta": delta}
        yield sse("content_block_delta", event)
    yield sse("content_block_stop", {"type": "content_block_stop", "index": index})
