"""The gateway benchmark: tool calls per second through the gateway vs a bare SDK server.

Both servers expose the same tools (the default registry, each on its own temporary store) over
the SDK's Streamable HTTP app on loopback; the bare one has no auth, no space check and no
policy gate. The SDK's own client calls a read tool sequentially, in the current protocol and
in the legacy session protocol. The ratio gateway/bare is the cost of auth + policy + metrics
per call. Bounded: `calls` per variant and `time_limit_s` per measurement, whichever is first.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp.types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from starlette.types import ASGIApp

from gateway import GatewaySettings, GatewayThread, LocalSigner, ServerThread
from gateway.results import mcp_result, mcp_tool
from planner.dispatch import execute, validate
from planner.logging import configure_logging
from planner.policy import PolicyMode
from planner.tools import ToolContext, ToolResult
from toolkits import default_registry
from toolkits.keyvault import LocalKeyVault
from toolkits.store import open_store

TOOL = "todo.list"
MODES = {"current": "2026-07-28", "legacy": "legacy"}
BENCH_USER = "bench-user"


@asynccontextmanager
async def bare_app(var: Path) -> AsyncIterator[ASGIApp]:
    """The same tools on a plain low-level Server: no auth, no spaces check, no policy."""
    store = await open_store(f"sqlite:///{var / 'bare.db'}")
    try:
        registry = default_registry(
            store, LocalKeyVault(var / "bare-keys.json"), media_dir=var / "media"
        ).filter(lambda s: s.scope == "user-space")
        listing = types.ListToolsResult(tools=[mcp_tool(s) for s in registry])
        ctx = ToolContext(user_id=BENCH_USER, space_id="personal", invoker="mcp")

        async def list_tools(
            _ctx: ServerRequestContext[Any, Any], _params: types.PaginatedRequestParams | None
        ) -> types.ListToolsResult:
            return listing

        async def call_tool(
            _ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
        ) -> types.CallToolResult:
            spec = registry.get(params.name)
            if spec is None:
                return mcp_result(ToolResult(False, f"Unknown tool: {params.name}"))
            prepared = validate(spec, params.arguments or {})
            if isinstance(prepared, ToolResult):
                return mcp_result(prepared)
            return mcp_result(await execute(spec, ctx, prepared.payload))

        server: Server[Any] = Server("bare", on_list_tools=list_tools, on_call_tool=call_tool)
        yield server.streamable_http_app()
    finally:
        await store.close()


async def calls_per_second(
    url: str, token: str | None, mode: str, calls: int, time_limit_s: float
) -> float:
    """Sequential tools/call rate over one client, after a short warm-up."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        for _ in range(5):
            await client.call_tool(TOOL, {})
        done = 0
        start = time.perf_counter()
        deadline = start + time_limit_s
        while done < calls and time.perf_counter() < deadline:
            result = await client.call_tool(TOOL, {})
            if result.is_error:
                raise RuntimeError(f"benchmark call failed: {result.content}")
            done += 1
        return done / (time.perf_counter() - start)


def gateway_figures(calls: int = 300, time_limit_s: float = 15.0) -> dict[str, float]:
    """Calls per second through the gateway and on the bare server, and their ratio."""
    configure_logging("info", json_lines=True, stream=io.StringIO())
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="mana-gw-bench-") as tmp:
        var = Path(tmp)
        settings = GatewaySettings(
            var_dir=var / "gateway",
            policy_mode=PolicyMode.LOG_ONLY,
            rate_limits={TOOL: 10**9},
        )
        signer = LocalSigner.load_or_create(settings.signing_key_path)
        token = signer.mint(BENCH_USER, issuer=settings.issuer, audience=settings.audience)

        @asynccontextmanager
        async def bare(_base_url: str) -> AsyncIterator[ASGIApp]:
            async with bare_app(var) as app:
                yield app

        with GatewayThread(settings) as gw, ServerThread(bare) as plain:
            for label, mode in MODES.items():
                through = anyio.run(calls_per_second, gw.mcp_url, token, mode, calls, time_limit_s)
                direct = anyio.run(
                    calls_per_second, f"{plain.base_url}/mcp", None, mode, calls, time_limit_s
                )
                figures[f"gateway_calls_per_s_{label}"] = through
                figures[f"bare_calls_per_s_{label}"] = direct
                figures[f"gateway_vs_bare_ratio_{label}"] = through / direct
                figures[f"gateway_overhead_ms_per_call_{label}"] = 1000 / through - 1000 / direct
    return figures


if __name__ == "__main__":
    for key, value in gateway_figures().items():
        print(f"{key:42s} {value:10.3f}")
