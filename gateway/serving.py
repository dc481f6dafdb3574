"""Serving: `serve` for the CLI, `ServerThread` to run an app on loopback from a thread.

`ServerThread` binds a free port first, then builds the app inside the thread's own event loop
(so the store and the session manager live on the loop that serves them). Tests, benchmarks
and one-machine persona runs use it; `GatewayThread` does it for a whole gateway.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Self

import uvicorn
from starlette.types import ASGIApp

from gateway.errors import ServerStartError
from gateway.server import Gateway, gateway_app
from gateway.settings import GatewaySettings

AppFactory = Callable[[str], AbstractAsyncContextManager[ASGIApp]]
"""Builds the app to serve, given the base URL it will be reached at."""
START_TIMEOUT_S = 20.0


async def serve(settings: GatewaySettings, *, log_level: str = "info") -> None:
    """Serve the gateway until interrupted (the `mana-planner gateway` command)."""
    async with gateway_app(settings) as gateway:
        config = uvicorn.Config(
            gateway.app(),
            host=settings.host,
            port=settings.port,
            log_level=log_level,
            log_config=None,  # uvicorn's lines go through the application's logging (JSON)
            lifespan="on",
            server_header=False,
        )
        await uvicorn.Server(config).serve()


def bind_loopback(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready socket on a free port of `host`.

    The protocol is given explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets
    whose proto is IPPROTO_TCP, and without that every keep-alive response waits ~40 ms for
    the peer's delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


class ServerThread:
    """An ASGI app served by uvicorn on a free loopback port, from a background thread."""

    def __init__(self, build: AppFactory, host: str = "127.0.0.1") -> None:
        self.build = build
        self.host = host
        self._sock = bind_loopback(host)
        self.port: int = self._sock.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def start(self) -> Self:
        """Start serving; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self._run, name=f"asgi-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self._server is not None and self._server.started):
            if self._error is not None:
                raise ServerStartError(self.base_url, "failed to start") from self._error
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServerStartError(self.base_url, "did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced by start()
            self._error = exc

    async def _main(self) -> None:
        async with self.build(self.base_url) as app:
            config = uvicorn.Config(
                app, log_config=None, log_level="warning", lifespan="on", server_header=False
            )
            self._server = uvicorn.Server(config)
            await self._server.serve(sockets=[self._sock])


class GatewayThread(ServerThread):
    """A whole gateway (its store, identity and tools) on a free loopback port."""

    def __init__(self, settings: GatewaySettings) -> None:
        super().__init__(self._build, host="127.0.0.1")
        self.settings = replace(settings, host=self.host, port=self.port, public_url=None)
        self.gateway: Gateway | None = None

    @property
    def mcp_url(self) -> str:
        """The MCP endpoint."""
        return self.settings.resource_url

    @asynccontextmanager
    async def _build(self, _base_url: str) -> AsyncIterator[ASGIApp]:
        async with gateway_app(self.settings) as gateway:
            self.gateway = gateway
            yield gateway.app()
