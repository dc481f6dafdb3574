"""The gateway benchmark's concurrent clients: lean JSON-RPC over HTTP/1.1, in their own process.

`python -m bench.gateway_clients MODE TOKEN GATEWAY_URL BARE_URL N CALLS` opens N clients to
each server (in the legacy protocol each with its own session) and says `ready`; then, for each
line naming a server (`gateway` or `bare`) on stdin, has that server's N clients call `CALLS`
times at once and prints the latencies in milliseconds as one JSON line. EOF ends it. It
imports little, so starting it costs little of the machine the servers are measured on.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import anyio.to_thread
import h11
from mcp_types.version import LATEST_HANDSHAKE_VERSION

TOOL = "todo.list"
CLIENT_INFO = {"name": "mana-gateway-bench", "version": "0.1.0"}
META_PREFIX = "io.modelcontextprotocol/"
SESSION_HEADER = "mcp-session-id"


class LeanClient:
    """tools/call as hand-made JSON-RPC over one keep-alive HTTP/1.1 connection (h11), in either
    protocol: the concurrency phase's client, light enough that the server, not the clients,
    is what saturates (the SDK client, or even httpx2, costs about what the server does)."""

    def __init__(self, url: str, token: str | None, mode: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.legacy = mode == "legacy"
        self.version = LATEST_HANDSHAKE_VERSION if self.legacy else mode
        self.headers = [
            ("host", parts.netloc),
            ("accept", "application/json, text/event-stream"),
            ("content-type", "application/json"),
        ]
        if token:
            self.headers.append(("authorization", f"Bearer {token}"))
        self.next_id = 0
        self._http = h11.Connection(h11.CLIENT)
        self._stream: anyio.abc.SocketStream | None = None

    async def open(self) -> None:
        """Connect; in the legacy protocol, the handshake (initialize, initialized) too."""
        await self._connect()
        self.headers.append(("mcp-protocol-version", self.version))
        if not self.legacy:
            self.headers += [("mcp-method", "tools/call"), ("mcp-name", TOOL)]
            return
        params = {"protocolVersion": self.version, "capabilities": {}, "clientInfo": CLIENT_INFO}
        opened, _ = await self._post({"id": 0, "method": "initialize", "params": params})
        self.headers.append((SESSION_HEADER, opened[SESSION_HEADER.encode()].decode()))
        await self._post({"method": "notifications/initialized"})

    async def call(self) -> float:
        """One tools/call; its latency in milliseconds."""
        self.next_id += 1
        params: dict[str, Any] = {"name": TOOL, "arguments": {}}
        if not self.legacy:
            params["_meta"] = {
                f"{META_PREFIX}protocolVersion": self.version,
                f"{META_PREFIX}clientInfo": CLIENT_INFO,
                f"{META_PREFIX}clientCapabilities": {},
            }
        start = time.perf_counter()
        _, body = await self._post({"id": self.next_id, "method": "tools/call", "params": params})
        elapsed = (time.perf_counter() - start) * 1000
        if self.legacy:  # one SSE event: its `data:` line holds the JSON-RPC answer
            body = next(line[5:] for line in body.splitlines() if line.startswith(b"data:"))
        answer = json.loads(body)
        if "result" not in answer or answer["result"].get("isError"):
            raise SystemExit(f"benchmark call failed: {body[:300]!r}")
        return elapsed

    async def _connect(self) -> None:
        if self._stream is not None:
            await self._stream.aclose()
        self._stream = await anyio.connect_tcp(self.host, self.port)
        self._http = h11.Connection(h11.CLIENT)

    async def _post(self, message: dict[str, Any]) -> tuple[dict[bytes, bytes], bytes]:
        """POST one JSON-RPC message; the response's headers and whole body. A connection the
        server closed while it idled (uvicorn's keep-alive timeout) is opened again."""
        payload = json.dumps({"jsonrpc": "2.0", **message}).encode()
        try:
            return await self._exchange(payload)
        except (anyio.EndOfStream, anyio.BrokenResourceError, h11.RemoteProtocolError):
            await self._connect()
            return await self._exchange(payload)

    async def _exchange(self, payload: bytes) -> tuple[dict[bytes, bytes], bytes]:
        assert self._stream is not None
        headers = [*self.headers, ("content-length", str(len(payload)))]
        http = self._http
        await self._stream.send(
            http.send(h11.Request(method="POST", target=self.path, headers=headers))
            + http.send(h11.Data(data=payload))
            + http.send(h11.EndOfMessage())
        )
        response: dict[bytes, bytes] = {}
        body = bytearray()
        while not isinstance(event := http.next_event(), h11.EndOfMessage):
            if event is h11.NEED_DATA:
                http.receive_data(await self._stream.receive())
            elif isinstance(event, h11.Response):
                if event.status_code >= 400:
                    raise SystemExit(f"benchmark request failed: HTTP {event.status_code}")
                response = dict(event.headers)
            elif isinstance(event, h11.Data):
                body += event.data
        http.start_next_cycle()
        return response, bytes(body)

    async def aclose(self) -> None:
        """Close the connection."""
        if self._stream is not None:
            await self._stream.aclose()


async def clients_child(
    urls: dict[str, str], token: str, mode: str, clients: int, calls: int
) -> None:
    """A client process: opens `clients` clients to each server and says `ready`; then for each
    line naming a server, has its clients call `calls` times at once and prints the latencies
    (ms) as one JSON line. EOF ends it."""
    opened = {
        target: [
            LeanClient(url, token if target == "gateway" else None, mode) for _ in range(clients)
        ]
        for target, url in urls.items()
    }
    try:
        for client in (c for group in opened.values() for c in group):
            await client.open()
            await client.call()
        print("ready", flush=True)
        while target := (await anyio.to_thread.run_sync(sys.stdin.readline)).strip():
            async with anyio.create_task_group() as tg:
                for client in opened[target]:  # untimed: reconnects what the server closed
                    tg.start_soon(client.call)
            latencies: list[float] = []
            async with anyio.create_task_group() as tg:
                for client in opened[target]:
                    tg.start_soon(_timed_calls, client, calls, latencies)
            print(json.dumps(latencies), flush=True)
    finally:
        for client in (c for group in opened.values() for c in group):
            await client.aclose()


async def _timed_calls(client: LeanClient, calls: int, latencies: list[float]) -> None:
    for _ in range(calls):
        latencies.append(await client.call())


def main() -> None:
    """The client process (see the module docstring)."""
    mode, token, gateway_url, bare_url, clients, calls = sys.argv[1:7]
    urls = {"gateway": gateway_url, "bare": bare_url}
    anyio.run(clients_child, urls, token, mode, int(clients), int(calls))


if __name__ == "__main__":
    main()
