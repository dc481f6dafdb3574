"""The gateway benchmark: tool calls per second through the gateway vs a bare SDK server.

Both servers expose the same tools (the default registry, each on its own temporary store) over
the SDK's Streamable HTTP app on loopback; the bare one has no auth, no space check and no
policy gate. The SDK's own client calls a read tool sequentially, in the current protocol and
in the legacy session protocol, in alternating batches (gateway, bare, gateway, ...) so that
the machine's load drifts hit both; the ratio is the median of the per-pair ratios and is the
cost of auth + space check + policy + metrics per call. Then 100 clients call at once, and the
p99 latency of each server is reported. Bounded: a fixed number of calls everywhere.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from statistics import median, quantiles
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


@asynccontextmanager
async def _client(url: str, token: str | None, mode: str) -> AsyncIterator[Client]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


async def _batch_rate(client: Client, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        result = await client.call_tool(TOOL, {})
        if result.is_error:
            raise SystemExit(f"benchmark call failed: {result.content}")
    return calls / (time.perf_counter() - start)


async def interleaved_rates(
    gateway_url: str, token: str, bare_url: str, mode: str, batches: int, calls: int
) -> tuple[float, float, float]:
    """Sequential calls/s through each server in alternating batches (load drifts cancel):
    median gateway rate, median bare rate, median of the per-pair ratios."""
    async with _client(gateway_url, token, mode) as gw, _client(bare_url, None, mode) as bare:
        await _batch_rate(gw, 10)
        await _batch_rate(bare, 10)
        pairs = [
            (await _batch_rate(gw, calls), await _batch_rate(bare, calls)) for _ in range(batches)
        ]
    return (
        median(g for g, _ in pairs),
        median(b for _, b in pairs),
        median(g / b for g, b in pairs),
    )


async def concurrent_p99_ms(url: str, token: str | None, clients: int, calls: int) -> float:
    """p99 latency of tools/call with `clients` clients (current protocol) calling at once."""
    latencies: list[float] = []

    async def one() -> None:
        async with _client(url, token, MODES["current"]) as client:
            await client.call_tool(TOOL, {})
            for _ in range(calls):
                start = time.perf_counter()
                await client.call_tool(TOOL, {})
                latencies.append((time.perf_counter() - start) * 1000)

    async with anyio.create_task_group() as tg:
        for _ in range(clients):
            tg.start_soon(one)
    return quantiles(latencies, n=100, method="inclusive")[98]


def gateway_figures(batches: int = 7, calls: int = 40, clients: int = 100) -> dict[str, float]:
    """Calls/s through the gateway and the bare server, their ratio, and p99 at 100 clients."""
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
            bare_url = f"{plain.base_url}/mcp"
            for label, mode in MODES.items():
                through, direct, ratio = anyio.run(
                    interleaved_rates, gw.mcp_url, token, bare_url, mode, batches, calls
                )
                figures[f"gateway_calls_per_s_{label}"] = through
                figures[f"bare_calls_per_s_{label}"] = direct
                figures[f"gateway_vs_bare_ratio_{label}"] = ratio
                figures[f"gateway_overhead_ms_per_call_{label}"] = 1000 / through - 1000 / direct
            gw_p99 = anyio.run(concurrent_p99_ms, gw.mcp_url, token, clients, 5)
            bare_p99 = anyio.run(concurrent_p99_ms, bare_url, None, clients, 5)
            figures["gateway_p99_ms_100_clients"] = gw_p99
            figures["bare_p99_ms_100_clients"] = bare_p99
            figures["gateway_vs_bare_p99_100_clients"] = gw_p99 / bare_p99
    return figures


if __name__ == "__main__":
    for key, value in gateway_figures().items():
        print(f"{key:42s} {value:10.3f}")
