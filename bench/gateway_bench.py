"""The gateway benchmark: tool calls per second through the gateway vs a bare SDK server.

Both servers expose the same tools (the default registry, each on its own temporary store) over
the SDK's Streamable HTTP app on loopback, served by the same code (`ServerThread`: uvicorn, one
worker, the same settings), each in a process of its own, so no client shares a server's
interpreter; the bare one has no auth, no space check and no policy gate. The gateway runs as
users get it: JWT auth, the space check, the policy gate (log-only) and metrics.

Two protocol modes: `current` (2026-07-28: one stateless POST per call, a JSON answer) and
`legacy` (2025-11-25: an `initialize` handshake opens an `Mcp-Session-Id` session, the SDK
client keeps its GET stream open, and every POST is answered as an SSE stream).

1. Sequential: the SDK's own client in this process calls a read tool on both servers, call by
   call in turn (which server goes first alternates), in batches; a batch's ratio is the
   gateway's calls/s over the bare server's, the figure is the median over the batches. Each
   server reports the CPU time it spent, so the figures also say what a call costs the server.
2. Concurrent: 100 clients in `CLIENT_PROCESSES` processes of their own, each with a session
   (legacy) or not, call at once (5 calls each a round), in rounds that alternate the servers;
   per server the median of the rounds' p99 latencies, and the median of the per-round ratios.
   These clients send hand-made JSON-RPC over HTTP/1.1 (bench/gateway_clients.py): the SDK
   client costs about as much CPU per call as the server, and 100 of them on the same cores
   would make the p99 measure the clients.

Bounded: a fixed number of calls everywhere. `--profile DIR` writes each server process's CPU
profile (yappi, pstats format) to DIR; `--help` lists the other knobs.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from statistics import median, quantiles
from typing import IO, Any

import anyio
import anyio.abc
import httpx2
import mcp.types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from starlette.types import ASGIApp

from bench.gateway_clients import TOOL
from gateway import GatewaySettings, GatewayThread, LocalSigner, ServerThread
from gateway.results import mcp_result, mcp_tool
from planner.dispatch import execute, validate
from planner.logging import configure_logging
from planner.policy import PolicyMode
from planner.tools import ToolContext, ToolResult
from toolkits import default_registry
from toolkits.keyvault import LocalKeyVault
from toolkits.store import open_store

MODES = {"current": "2026-07-28", "legacy": "legacy"}
BENCH_USER = "bench-user"
CLIENT_PROCESSES = 2
CONCURRENT_ROUNDS = 4
ROOT = Path(__file__).resolve().parents[1]


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


def bench_settings(var: Path) -> GatewaySettings:
    """The gateway as the benchmark serves it: log-only gate, no rate limit on the bench tool."""
    return GatewaySettings(
        var_dir=var / "gateway", policy_mode=PolicyMode.LOG_ONLY, rate_limits={TOOL: 10**9}
    )


# --- the server processes -------------------------------------------------------------------


@asynccontextmanager
async def _bare_factory(var: Path, _base_url: str) -> AsyncIterator[ASGIApp]:
    async with bare_app(var) as app:
        yield app


def serve_child(kind: str, var: Path, profile: Path | None) -> None:
    """A server process: prints its MCP URL, then its CPU seconds for each line read; EOF stops."""
    configure_logging("info", json_lines=True, stream=io.StringIO())
    server = (
        GatewayThread(bench_settings(var))
        if kind == "gateway"
        else ServerThread(partial(_bare_factory, var))
    )
    if profile is not None:
        import yappi  # type: ignore[import-untyped]  # a dev dependency, only for --profile

        yappi.set_clock_type("cpu")
        yappi.start()
    with server:
        url = server.mcp_url if isinstance(server, GatewayThread) else f"{server.base_url}/mcp"
        print(url, flush=True)
        for _ in sys.stdin:
            print(time.process_time(), flush=True)
    if profile is not None:
        yappi.stop()
        yappi.get_func_stats().save(str(profile), type="pstat")


class ServerProcess:
    """One server (`gateway` or `bare`) in a process of its own, asked for its CPU time."""

    def __init__(self, kind: str, var: Path, profile_dir: Path | None) -> None:
        command = [sys.executable, "-m", "bench.gateway_bench", "--child-serve", kind, str(var)]
        if profile_dir is not None:
            command += ["--profile", str(profile_dir / f"{kind}.pstat")]
        self._proc = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.url = self._line()

    def _line(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line:
            raise SystemExit(f"benchmark server exited with {self._proc.wait()}")
        return line

    def cpu_s(self) -> float:
        """CPU seconds the server process has used so far."""
        _say(self._proc.stdin, "cpu")
        return float(self._line())

    def close(self) -> None:
        """Stop the server (and let it write its profile)."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=60)


def _say(stream: IO[str] | None, line: str) -> None:
    assert stream is not None
    stream.write(line + "\n")
    stream.flush()


# --- the sequential client ------------------------------------------------------------------


@asynccontextmanager
async def _client(url: str, token: str | None, mode: str) -> AsyncIterator[Client]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


async def _timed_call(client: Client) -> float:
    start = time.perf_counter()
    result = await client.call_tool(TOOL, {})
    if result.is_error:
        raise SystemExit(f"benchmark call failed: {result.content}")
    return time.perf_counter() - start


async def _paired_batch(
    clients: dict[str, Client], servers: dict[str, ServerProcess], calls: int
) -> dict[str, tuple[float, float]]:
    """`calls` sequential calls to each server, alternating call by call (and which goes first),
    so load drifts hit both alike: per server, (calls per second, server CPU ms per call)."""
    cpu = {name: server.cpu_s() for name, server in servers.items()}
    spent = dict.fromkeys(clients, 0.0)
    order = list(clients)
    for _ in range(calls):
        for name in order:
            spent[name] += await _timed_call(clients[name])
        order.reverse()
    return {
        name: (calls / spent[name], (server.cpu_s() - cpu[name]) * 1000 / calls)
        for name, server in servers.items()
    }


async def interleaved_rates(
    gw: ServerProcess, token: str, bare: ServerProcess, mode: str, batches: int, calls: int
) -> dict[str, float]:
    """Sequential calls through each server in paired batches: median rates, the median of
    the per-batch ratios, and each server's CPU ms per call."""
    servers = {"gateway": gw, "bare": bare}
    async with _client(gw.url, token, mode) as through, _client(bare.url, None, mode) as direct:
        clients = {"gateway": through, "bare": direct}
        await _paired_batch(clients, servers, 10)
        pairs = [await _paired_batch(clients, servers, calls) for _ in range(batches)]
    return {
        "gateway": median(p["gateway"][0] for p in pairs),
        "bare": median(p["bare"][0] for p in pairs),
        "ratio": median(p["gateway"][0] / p["bare"][0] for p in pairs),
        "gateway_cpu": median(p["gateway"][1] for p in pairs),
        "bare_cpu": median(p["bare"][1] for p in pairs),
    }


# --- the concurrent clients -----------------------------------------------------------------


def concurrent_p99_ms(
    urls: dict[str, str], token: str, mode: str, clients: int, calls: int, rounds: int
) -> dict[str, float]:
    """p99 latency of tools/call per server with `clients` clients (spread over
    CLIENT_PROCESSES processes of their own) calling at once, in rounds that alternate the
    servers: the median over the rounds of each server's p99, and of the per-round ratios."""
    per_process = clients // CLIENT_PROCESSES
    command = [sys.executable, "-m", "bench.gateway_clients", mode, token]
    command += [urls["gateway"], urls["bare"], str(per_process), str(calls)]
    procs = [
        subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(CLIENT_PROCESSES)
    ]
    p99s: dict[str, list[float]] = {target: [] for target in urls}
    try:
        for proc in procs:
            if _read_line(proc).strip() != "ready":
                raise SystemExit(f"benchmark clients exited with {proc.wait()}")
        for i in range(rounds):
            for target in ("gateway", "bare") if i % 2 == 0 else ("bare", "gateway"):
                for proc in procs:
                    _say(proc.stdin, target)
                latencies = [ms for proc in procs for ms in json.loads(_read_line(proc))]
                p99s[target].append(quantiles(latencies, n=100, method="inclusive")[98])
    finally:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=120)
    pairs = zip(p99s["gateway"], p99s["bare"], strict=True)
    return {
        "gateway": median(p99s["gateway"]),
        "bare": median(p99s["bare"]),
        "ratio": median(g / b for g, b in pairs),
    }


def _read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    return proc.stdout.readline()


# --- the figures ----------------------------------------------------------------------------


def gateway_figures(
    batches: int = 11,
    calls: int = 40,
    clients: int = 100,
    concurrent_calls: int = 5,
    profile_dir: Path | None = None,
    concurrent: bool = True,
    modes: tuple[str, ...] = tuple(MODES),
) -> dict[str, float]:
    """Calls/s through the gateway and the bare server, their ratio, and p99 at 100 clients."""
    configure_logging("info", json_lines=True, stream=io.StringIO())
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="mana-gw-bench-") as tmp:
        var = Path(tmp)
        settings = bench_settings(var)
        signer = LocalSigner.load_or_create(settings.signing_key_path)
        token = signer.mint(BENCH_USER, issuer=settings.issuer, audience=settings.audience)
        gw = ServerProcess("gateway", var, profile_dir)
        bare = ServerProcess("bare", var, profile_dir)
        try:
            for label in modes:
                mode = MODES[label]
                got = anyio.run(interleaved_rates, gw, token, bare, mode, batches, calls)
                figures[f"gateway_calls_per_s_{label}"] = got["gateway"]
                figures[f"bare_calls_per_s_{label}"] = got["bare"]
                figures[f"gateway_vs_bare_ratio_{label}"] = got["ratio"]
                figures[f"gateway_overhead_ms_per_call_{label}"] = (
                    1000 / got["gateway"] - 1000 / got["bare"]
                )
                figures[f"gateway_server_cpu_ms_per_call_{label}"] = got["gateway_cpu"]
                figures[f"bare_server_cpu_ms_per_call_{label}"] = got["bare_cpu"]
            urls = {"gateway": gw.url, "bare": bare.url}
            for label in modes if concurrent else ():
                suffix = "" if label == "current" else f"_{label}"
                p99 = concurrent_p99_ms(
                    urls, token, MODES[label], clients, concurrent_calls, CONCURRENT_ROUNDS
                )
                figures[f"gateway_p99_ms_100_clients{suffix}"] = p99["gateway"]
                figures[f"bare_p99_ms_100_clients{suffix}"] = p99["bare"]
                figures[f"gateway_p99_over_bare_100_clients{suffix}"] = p99["ratio"]
        finally:
            gw.close()
            bare.close()
    return figures


def main() -> None:
    """The benchmark, or its server process (`--child-serve`)."""
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_bench")
    parser.add_argument("--profile", type=Path, help="write the servers' CPU profiles here")
    parser.add_argument("--batches", type=int, default=11, help="batch pairs per protocol")
    parser.add_argument("--calls", type=int, default=40, help="sequential calls per batch")
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both", help="protocols")
    parser.add_argument("--sequential-only", action="store_true", help="skip the 100 clients")
    parser.add_argument("--child-serve", nargs=2, metavar=("KIND", "VAR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_serve is not None:
        serve_child(args.child_serve[0], Path(args.child_serve[1]), args.profile)
    else:
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
        figures = gateway_figures(
            args.batches,
            args.calls,
            profile_dir=args.profile,
            concurrent=not args.sequential_only,
            modes=tuple(MODES) if args.mode == "both" else (args.mode,),
        )
        for key, value in figures.items():
            print(f"{key:42s} {value:10.3f}")


if __name__ == "__main__":
    main()
