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

    python -m planner.testing.fake_llm --port 0 --port-file P --script replies.json \\
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
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from planner.testing.render_anthropic import AnthropicRender
from planner.testing.render_openai import ChatRender, ResponsesRender
from planner.testing.replies import API_PATHS, RecordedRequest, Reply, ReplySource, error_body
from planner.testing.structured import structured_problem, structured_reply

RENDERERS: dict[str, AnthropicRender | ChatRender | ResponsesRender] = {
    "anthropic": AnthropicRender(),
    "chat": ChatRender(),
    "responses": ResponsesRender(),
}


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
        # log_config and log_level None: uvicorn leaves the process's logging as it was (a
        # level would be set on its loggers for every server in the process, not just this one)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level=None,
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
        if reply.output is not None and reply.status < 400:
            problem = structured_problem(api, body)
            if problem is not None:
                reply = Reply.error(400, message=f"fake llm server: {problem}")
            else:
                reply = structured_reply(api, reply, body)
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
