"""Engine workloads shared by our benchmarks and the peer comparison."""

from __future__ import annotations

import heapq
import io
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import median
from typing import Any

import anyio
from pydantic import BaseModel

from planner import (
    PlannerLoopInput,
    PolicyGate,
    PolicyMode,
    ToolContext,
    ToolRegistry,
    ToolSpec,
    run_planner_loop,
)
from planner.logging import configure_logging
from planner.models import ScriptedModel
from planner.tools import read_tools_are_parallel_safe
from planner.transcript import FileTranscript


class SleepIn(BaseModel):
    ms: float = 0.0


class SleepOut(BaseModel):
    ok: bool = True


async def _sleep(ctx: ToolContext, inp: SleepIn) -> SleepOut:
    if inp.ms:
        await anyio.sleep(inp.ms / 1000)
    return SleepOut()


SLEEP = ToolSpec("bench.sleep", "Sleep for ms milliseconds.", SleepIn, SleepOut, _sleep)


def steps_for(rounds: int, calls_per_round: int, ms: float | list[float] = 0.0) -> list[Any]:
    """Scripted steps: `rounds` rounds of tool calls, then an answer."""
    out: list[Any] = []
    for _ in range(rounds):
        delays = ms if isinstance(ms, list) else [ms] * calls_per_round
        out.append(
            {"tool_calls": [{"name": "bench.sleep", "arguments": {"ms": d}} for d in delays]}
        )
    out.append({"text": "done"})
    return out


async def run_once(steps: list[Any], *, full: bool, tmp: Path, latency_s: float = 0.0) -> float:
    """Wall seconds of one run; `full` adds the transcript file and the policy gate."""
    transcript = FileTranscript(tmp / "bench.jsonl") if full else None
    inp = PlannerLoopInput(
        model=ScriptedModel(steps, latency_s=latency_s),
        system_prompt="bench",
        user_prompt="bench",
        tools=ToolRegistry([SLEEP]),
        context=ToolContext("bench-user", "bench-space", "bench-run"),
        policy=PolicyGate(mode=PolicyMode.LOG_ONLY, default_limit=10**9) if full else None,
        is_parallel_safe=read_tools_are_parallel_safe,
        max_rounds=len(steps) + 1,
        transcript=transcript,
    )
    start = time.perf_counter()
    result = await run_planner_loop(inp)
    wall = time.perf_counter() - start
    if transcript is not None:
        transcript.close()
    expected = sum(len(s.get("tool_calls", ())) for s in steps)
    if len(result.executed_calls) != expected or result.summary != "done":
        raise RuntimeError(f"bench run did {len(result.executed_calls)} of {expected} calls")
    return wall


def measure(fn: Callable[[], Awaitable[float]], batches: int, warmup: int = 2) -> float:
    """Median of `batches` runs after `warmup` runs."""

    async def go() -> float:
        for _ in range(warmup):
            await fn()
        return median([await fn() for _ in range(batches)])

    return anyio.run(go)


def window_ideal(durations: list[float], slots: int) -> float:
    """Wall time of a sliding window of `slots` over `durations` started in order."""
    ends: list[float] = []
    for d in durations:
        start = heapq.heappop(ends) if len(ends) >= slots else 0.0
        heapq.heappush(ends, start + d)
    return max(ends)


def chunks_ideal(durations: list[float], slots: int) -> float:
    """Wall time of fixed chunks of `slots`, each waiting for its slowest call."""
    return sum(max(durations[i : i + slots]) for i in range(0, len(durations), slots))


def quiet_logging() -> None:
    """Logging on, as a user runs it, but written to memory."""
    configure_logging("info", json_lines=True, stream=io.StringIO())


def engine_figures(batches: int = 7) -> dict[str, float]:
    """Our loop's figures: overhead per round, parallel rounds, and their ideals."""
    quiet_logging()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for calls in (1, 10):
            steps = steps_for(20, calls)
            for full in (False, True):
                wall = measure(lambda s=steps, f=full: run_once(s, full=f, tmp=tmp), batches)
                key = f"overhead_us_per_round_{calls}call{'_full' if full else ''}"
                figures[key] = wall / 21 * 1e6
        ten = steps_for(1, 10, 50.0)
        wall = measure(lambda: run_once(ten, full=True, tmp=tmp), max(3, batches // 2), 1)
        figures["ten_50ms_ratio"] = wall / 0.050
        mixed = [150.0 - 5 * i for i in range(25)]
        wall = measure(
            lambda: run_once(steps_for(1, 25, mixed), full=True, tmp=tmp), max(3, batches // 2), 1
        )
        ideal = window_ideal([m / 1000 for m in mixed], 10)
        figures["mixed25_wall_ms"] = wall * 1000
        figures["mixed25_window_ideal_ms"] = ideal * 1000
        figures["mixed25_vs_window"] = wall / ideal
        figures["mixed25_chunks_ideal_ms"] = chunks_ideal([m / 1000 for m in mixed], 10) * 1000
    return figures


def gate_us_per_decision(n: int = 20000) -> float:
    """Policy gate time per decision with about 1 KiB of nested string arguments."""
    quiet_logging()
    gate = PolicyGate(mode=PolicyMode.ENFORCE, default_limit=10**9)
    ctx = ToolContext("bench-user", "bench-space")
    args = {
        "title": "Quarterly planning notes for the team offsite",
        "items": [
            {"text": f"Item {i}: review the roadmap and budget lines carefully", "tags": ["a", "b"]}
            for i in range(14)
        ],
        "meta": {"owner": "someone", "notes": "nothing suspicious in here at all, really"},
    }
    start = time.perf_counter()
    for _ in range(n):
        gate.evaluate(SLEEP, ctx, args)
    return (time.perf_counter() - start) / n * 1e6
