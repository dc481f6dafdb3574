"""A local fake of three model APIs, speaking their real wire formats.

Routes: POST /v1/messages (Anthropic Messages), /v1/chat/completions (OpenAI Chat
Completions), /v1/responses (OpenAI Responses); each JSON or SSE (`"stream": true`).

Each request takes the next scripted `Reply` from a queue (or a callable that builds one from
the request): text, tool calls, a stop reason and usage, or an HTTP error with headers, a
connection dropped mid-response, a delay (for client timeouts). Every request is recorded
(headers and JSON body) so tests assert on the wire.

In process::

    server = FakeLLMServer().start()
    server.push(Reply(text="hi"))
    AsyncAnthropic(base_url=server.base_url, ...)   # OpenAI SDKs: server.openai_base_url
    server.requests[0].body
    server.stop()

As a process (for tests that run or kill a subprocess)::

    python -m tests.fakes.llm_server --port 0 --port-file P --script replies.json \\
        --count-file N --log-file requests.jsonl

`replies.json` is a list of reply dicts (see `Reply.from_dict`) or
`{"replies": [...], "default": {...}}`; N holds the number of requests received so far.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

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


class FakeLLMServer:
    """The fake server: a reply queue, the recorded requests, and uvicorn in a thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        count_file: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.count_file = count_file
        self.log_file = log_file
        self.default: ReplySource | None = None
        self.requests: list[RecordedRequest] = []
        self._replies: deque[ReplySource] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[Route(path, self._handle, methods=["POST"]) for path in API_PATHS]
        )

    # --- control ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Root URL: the Anthropic SDK's base_url."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The OpenAI SDK's base_url (with /v1)."""
        return f"{self.base_url}/v1"

    def push(self, *replies: ReplySource) -> None:
        """Queue replies, answered in order."""
        with self._lock:
            self._replies.extend(replies)

    def reset(self) -> None:
        """Forget queued replies, recorded requests and the default reply."""
        with self._lock:
            self._replies.clear()
            self.requests.clear()
            self.default = None

    @property
    def pending(self) -> int:
        """Replies still queued."""
        with self._lock:
            return len(self._replies)

    def bind(self) -> socket.socket:
        """Bind the listening socket (port 0 picks a free one) and record the port."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)  # connections made before uvicorn runs wait in the backlog
        self.port = sock.getsockname()[1]
        return sock

    def _make_server(self) -> uvicorn.Server:
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="critical",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        return uvicorn.Server(config)

    def start(self) -> FakeLLMServer:
        """Serve from a background thread; returns once the server accepts connections."""
        sock = self.bind()
        self._server = self._make_server()
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def serve_forever(self, on_bound: Callable[[int], None] | None = None) -> None:
        """Serve in this thread until SIGINT/SIGTERM; `on_bound` gets the port first."""
        sock = self.bind()
        if on_bound is not None:
            on_bound(self.port)
        self._server = self._make_server()
        self._server.run(sockets=[sock])

    # --- request handling --------------------------------------------------------------

    def _record(
        self, api: str, request: Request, body: dict[str, Any]
    ) -> tuple[RecordedRequest, ReplySource | None]:
        with self._lock:
            recorded = RecordedRequest(
                index=len(self.requests),
                api=api,
                path=request.url.path,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
            )
            self.requests.append(recorded)
            count = len(self.requests)
            source = self._replies.popleft() if self._replies else self.default
        if self.count_file is not None:
            tmp = self.count_file.with_suffix(".tmp")
            tmp.write_text(str(count))
            os.replace(tmp, self.count_file)
        if self.log_file is not None:
            with self.log_file.open("a") as f:
                line = {"index": recorded.index, "api": api, "path": recorded.path, "body": body}
                f.write(json.dumps(line) + "\n")
        return recorded, source

    async def _handle(self, request: Request) -> Response:
        api = API_PATHS[request.url.path]
        body = await request.json()
        recorded, source = self._record(api, request, body)
        if source is None:
            reply = Reply.error(
                400, message=f"fake llm server: no scripted reply left for request {recorded.index}"
            )
        else:
            reply = source(recorded) if callable(source) else source
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.drop:
            return DroppedResponse(recorded.stream)
        if reply.status >= 400:
            return JSONResponse(
                error_body(api, reply), status_code=reply.status, headers=reply.headers
            )
        render = RENDERERS[api]
        n = next(self._ids)
        if recorded.stream:
            events = render.stream(reply, body, n)
            return StreamingResponse(
                _aiter(events), media_type="text/event-stream", headers=reply.headers
            )
        return JSONResponse(render.json(reply, body, n), headers=reply.headers)


async def _aiter(chunks: Iterator[str]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk.encode()
        await asyncio.sleep(0)


class DroppedResponse(Response):
    """Starts a response, sends a few bytes of it, then lets the server close the connection."""

    def __init__(self, stream: bool) -> None:
        super().__init__()
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._stream:
            headers = [(b"content-type", b"text/event-stream")]
        else:
            headers = [(b"content-type", b"application/json"), (b"content-length", b"200")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"partial', "more_body": True})
        # Returning with more_body pending makes uvicorn close the transport.


# --- wire formats ----------------------------------------------------------------------


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
            block = {"type": "text", "text": ""}
            yield sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
            for piece in pieces(reply.text, TEXT_PIECE):
                delta = {"type": "text_delta", "text": piece}
                yield sse(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            yield sse("content_block_stop", {"type": "content_block_stop", "index": index})
            index += 1
        for i, call in enumerate(reply.tool_calls):
            block = {"type": "tool_use", "id": self._call_id(call, n, i), "name": call.name}
            yield sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {**block, "input": {}},
                },
            )
            for piece in ["", *pieces(call.arguments_text(), JSON_PIECE)]:
                delta = {"type": "input_json_delta", "partial_json": piece}
                yield sse(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            yield sse("content_block_stop", {"type": "content_block_stop", "index": index})
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
        prompt = reply.input_tokens + reply.cache_read_tokens + reply.cache_write_tokens
        details: dict[str, int] = {"cached_tokens": reply.cache_read_tokens}
        if reply.cache_write_tokens:
            details["cache_write_tokens"] = reply.cache_write_tokens
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
        prompt = reply.input_tokens + reply.cache_read_tokens + reply.cache_write_tokens
        details: dict[str, int] = {"cached_tokens": reply.cache_read_tokens}
        if reply.cache_write_tokens:
            details["cache_write_tokens"] = reply.cache_write_tokens
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


RENDERERS: dict[str, AnthropicRender | ChatRender | ResponsesRender] = {
    "anthropic": AnthropicRender(),
    "chat": ChatRender(),
    "responses": ResponsesRender(),
}


# --- standalone mode -------------------------------------------------------------------


def load_script(path: Path) -> tuple[list[Reply], Reply | None]:
    """Replies (and an optional default) from a JSON script file."""
    data = json.loads(path.read_text())
    if isinstance(data, list):
        return [Reply.from_dict(r) for r in data], None
    default = data.get("default")
    replies = [Reply.from_dict(r) for r in data.get("replies", [])]
    return replies, Reply.from_dict(default) if default is not None else None


def main(argv: list[str] | None = None) -> None:
    """Run the fake server in the foreground until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON list of replies")
    parser.add_argument("--count-file", type=Path, help="kept holding the request count")
    parser.add_argument("--log-file", type=Path, help="JSON lines, one per request")
    parser.add_argument("--port-file", type=Path, help="written with the port once bound")
    args = parser.parse_args(argv)
    server = FakeLLMServer(args.host, args.port, count_file=args.count_file, log_file=args.log_file)
    if args.script is not None:
        replies, default = load_script(args.script)
        server.push(*replies)
        server.default = default
    if args.count_file is not None:
        args.count_file.write_text("0")

    def announce(port: int) -> None:
        if args.port_file is not None:
            args.port_file.write_text(str(port))
        print(f"fake llm server on {server.base_url}", flush=True)

    server.serve_forever(on_bound=announce)


if __name__ == "__main__":
    main()
