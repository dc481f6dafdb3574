"""The gateway under hostile arguments: another user's tools/list latency while attackers send.

Three processes, so no client shares the server's interpreter: the gateway (uvicorn, as
`mana-planner gateway` serves it, default log-only policy), a hostile process, and this one.
The hostile process runs `HOSTILE_CLIENTS` clients in a loop: `notes.create` with the largest
adversarial content its input model accepts (50,000 characters of `{{`) and `todo.complete` /
`habits.archive` with 1 MiB ids of `{{` and `you are now ` (valid arguments: they reach the
gate and the handler). Meanwhile a separate user calls `tools/list` back to back and every
latency is kept: p50, p99 and max, first without the attack (baseline), then under it.
Bounded: `seconds` of attack, one client per tool call, everything on loopback.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median, quantiles
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from gateway import GatewaySettings, LocalSigner
from gateway.serving import bind_loopback
from planner.logging import configure_logging

MODE = "2026-07-28"
MIB = 1024 * 1024
NOTE_LIMIT = 50_000
GOAL_P99_MS = 100.0


def hostile_calls() -> list[tuple[str, dict[str, Any]]]:
    """The attackers' calls: the largest adversarial note, and 1 MiB ids for two tools."""
    return [
        ("notes.create", {"title": "x", "content": "{{" * (NOTE_LIMIT // 2)}),
        ("todo.complete", {"todoId": "{{" * (MIB // 2)}),
        ("habits.archive", {"habitId": "you are now " * (MIB // 12)}),
        ("notes.create", {"title": "y", "content": "you are now " * (NOTE_LIMIT // 12)}),
    ]


async def _client_loop(url: str, token: str, name: str, args: dict[str, Any], until: float) -> int:
    headers = {"authorization": f"Bearer {token}"}
    done = 0
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=MODE) as client,
    ):
        while time.monotonic() < until:
            await client.call_tool(name, args)
            done += 1
    return done


async def attack(url: str, token: str, seconds: float) -> None:
    """Every hostile call in its own client, back to back, for `seconds`."""
    until = time.monotonic() + seconds
    async with anyio.create_task_group() as tg:
        for name, args in hostile_calls():
            tg.start_soon(_client_loop, url, token, name, args, until)


async def list_latencies(url: str, token: str, seconds: float) -> list[float]:
    """Milliseconds of each back-to-back tools/list by one client, for `seconds`."""
    headers = {"authorization": f"Bearer {token}"}
    latencies: list[float] = []
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http), mode=MODE) as client,
    ):
        for _ in range(5):
            await client.list_tools()
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            start = time.perf_counter()
            await client.list_tools()
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def _summary(prefix: str, latencies: list[float]) -> dict[str, float]:
    cuts = quantiles(latencies, n=100, method="inclusive")
    return {
        f"{prefix}_p50_ms": median(latencies),
        f"{prefix}_p99_ms": cuts[98],
        f"{prefix}_max_ms": max(latencies),
        f"{prefix}_calls": float(len(latencies)),
    }


def _wait_healthy(base_url: str, server: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gateway exited with {server.returncode} before it served")
        try:
            if httpx2.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"gateway on {base_url} did not come up in {timeout_s:.0f} s")


def hostile_figures(seconds: float = 8.0, baseline_s: float = 3.0) -> dict[str, float]:
    """tools/list p50/p99/max for another user, without and under the hostile load."""
    configure_logging("warning", json_lines=True, stream=io.StringIO())
    with tempfile.TemporaryDirectory(prefix="mana-gw-hostile-") as tmp:
        settings = GatewaySettings(var_dir=Path(tmp))
        signer = LocalSigner.load_or_create(settings.signing_key_path)

        def mint(user: str) -> str:
            return signer.mint(user, issuer=settings.issuer, audience=settings.audience)

        sock = bind_loopback()
        port = sock.getsockname()[1]
        sock.close()
        base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "MANA_VAR_DIR": tmp, "POLICY_MODE": "log-only"}
        run = [sys.executable, "-m", "bench.gateway_hostile"]
        with subprocess.Popen(
            [*run, "--serve", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as server:
            try:
                _wait_healthy(base_url, server)
                url = f"{base_url}/mcp"
                figures = _summary(
                    "list_quiet", anyio.run(list_latencies, url, mint("calm"), baseline_s)
                )
                attacker = subprocess.Popen(
                    [*run, "--attack", url, mint("attacker"), str(seconds)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
                time.sleep(1.0)  # let the attack reach full speed
                under = anyio.run(list_latencies, url, mint("calm"), seconds - 1.5)
                attacker.wait(timeout=seconds + 120)
                figures.update(_summary("list_under_attack", under))
            finally:
                server.terminate()
                server.wait(timeout=20)
    figures["list_p99_under_attack_vs_goal"] = figures["list_under_attack_p99_ms"] / GOAL_P99_MS
    return figures


def _serve(port: int) -> None:
    from dataclasses import replace

    from gateway.serving import serve

    settings = replace(GatewaySettings.from_env(), port=port)
    configure_logging("info", json_lines=True)  # as the CLI serves it; stderr goes nowhere
    anyio.run(lambda: serve(settings, log_level="warning"))


def main() -> None:
    """`--serve PORT` and `--attack URL TOKEN SECONDS` are the child processes; else: bench."""
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_hostile")
    parser.add_argument("--serve", type=int)
    parser.add_argument("--attack", nargs=3, metavar=("URL", "TOKEN", "SECONDS"))
    args = parser.parse_args()
    if args.serve is not None:
        _serve(args.serve)
    elif args.attack is not None:
        url, token, seconds = args.attack
        anyio.run(attack, url, token, float(seconds))
    else:
        for key, value in hostile_figures().items():
            print(f"{key:36s} {value:10.2f}")


if __name__ == "__main__":
    main()
