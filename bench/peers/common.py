"""Workloads, counters and measurement shared by every peer script (imports no engine).

Each peer script builds a `Peer` (how to do one run of a `Script` in a given concurrency
mode) and calls `main(peer)`. The workloads, their ideals, the call counting and the
loud failure when a run did not do what the workload asks for all live here, so every
runtime is measured by the same code.
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

OVERHEAD_ROUNDS = 20
TEN_MS = 50.0
MIXED_MS = [150.0 - 5 * i for i in range(25)]
WINDOW = 10
SCALE_RUNS = 1000
SCALE_ROUNDS = 5
SCALE_LATENCY_S = 0.100
ANSWER = "done"


@dataclass(frozen=True)
class Script:
    """What the fake model asks for: per tool round, one delay (ms) per call; then an answer."""

    rounds: tuple[tuple[float, ...], ...]
    latency_s: float = 0.0

    @property
    def model_calls(self) -> int:
        """Model calls one run makes: one per tool round plus the answer."""
        return len(self.rounds) + 1

    @property
    def tool_calls(self) -> int:
        """Tool executions one run makes."""
        return sum(len(r) for r in self.rounds)

    def step(self, index: int) -> tuple[float, ...] | None:
        """The delays of the calls asked for at model call `index` (0-based); None: answer."""
        if index < len(self.rounds):
            return self.rounds[index]
        if index == len(self.rounds):
            return None
        raise WorkloadError(f"model called {index + 1} times, the script has {self.model_calls}")


def script(
    rounds: int, calls: int, ms: float | list[float] = 0.0, latency_s: float = 0.0
) -> Script:
    """`rounds` rounds of `calls` calls (each `ms`, or one delay per call), then an answer."""
    delays = tuple(ms) if isinstance(ms, list) else (ms,) * calls
    return Script(tuple(delays for _ in range(rounds)), latency_s)


class WorkloadError(RuntimeError):
    """A peer did not do the work the workload asks for: its figure would be flattering."""


@dataclass
class Counts:
    """Model calls and tool executions, counted by the fake model and the tool themselves."""

    model_calls: int = 0
    tool_calls: int = 0

    def reset(self) -> None:
        """Start a new count."""
        self.model_calls = 0
        self.tool_calls = 0


COUNTS = Counts()


def check(what: str, s: Script, runs: int, answers: list[str]) -> None:
    """Fail loudly unless `runs` runs of `s` made exactly the intended calls and answered."""
    want_model, want_tools = s.model_calls * runs, s.tool_calls * runs
    if COUNTS.model_calls != want_model or COUNTS.tool_calls != want_tools:
        raise WorkloadError(
            f"{what}: {COUNTS.model_calls} model calls and {COUNTS.tool_calls} tool executions, "
            f"expected {want_model} and {want_tools}"
        )
    bad = [a for a in answers if a != ANSWER]
    if len(answers) != runs or bad:
        raise WorkloadError(f"{what}: {len(answers)} answers for {runs} runs, wrong: {bad[:3]}")
    COUNTS.reset()


RunFn = Callable[[Script, str], Awaitable[str]]


@dataclass
class Peer:
    """A runtime under test: `run(script, mode)` does one run and returns its answer."""

    name: str
    version: str
    run: RunFn
    modes: dict[str, str]
    """Concurrency modes for the mixed workload: name -> how the peer is configured."""
    default_mode: str
    config: list[str] = field(default_factory=list)
    """The configuration given to the peer (tracing off, fresh agent per run, ...)."""
    workarounds: list[str] = field(default_factory=list)
    """Anything the figures needed that the peer's documented facility did not provide."""
    setup: Callable[[], None] | None = None
    cleanup: Callable[[], None] | None = None
    """Called after each timed batch, outside the timing (deletes transcript files)."""


def mode_ideal_ms(mode: str, delays: list[float]) -> float:
    """Ideal wall of one round of `delays` under a concurrency mode."""
    if mode == "sequential":
        return sum(delays)
    if mode.startswith("window"):
        return window_ideal(delays, int(mode.removeprefix("window")))
    return max(delays)


def window_ideal(durations: list[float], slots: int) -> float:
    """Wall time of a sliding window of `slots` over `durations` started in order."""
    ends: list[float] = []
    for d in durations:
        start = heapq.heappop(ends) if len(ends) >= slots else 0.0
        heapq.heappush(ends, start + d)
    return max(ends)


async def timed_runs(peer: Peer, s: Script, runs: int, mode: str, what: str) -> float:
    """Wall seconds of `runs` runs one after the other, checked."""
    COUNTS.reset()
    answers = []
    start = time.perf_counter()
    for _ in range(runs):
        answers.append(await peer.run(s, mode))
    wall = time.perf_counter() - start
    check(what, s, runs, answers)
    if peer.cleanup is not None:
        peer.cleanup()
    return wall


async def median_wall(
    peer: Peer, s: Script, *, runs: int, batches: int, warmup: int, mode: str, what: str
) -> float:
    """Median wall of one batch of `runs` runs, over `batches` batches after `warmup`."""
    for _ in range(warmup):
        await timed_runs(peer, s, runs, mode, what)
    walls = [await timed_runs(peer, s, runs, mode, what) for _ in range(batches)]
    return median(walls)


async def rounds_figures(peer: Peer, batches: int) -> dict[str, Any]:
    """Workloads 1 to 3: overhead per round, 10 x 50 ms, 25 mixed in every mode."""
    out: dict[str, Any] = {}
    for calls in (1, 10):
        s = script(OVERHEAD_ROUNDS, calls)
        runs = 5
        wall = await median_wall(
            peer,
            s,
            runs=runs,
            batches=batches,
            warmup=2,
            mode=peer.default_mode,
            what=f"overhead {calls} call(s)",
        )
        out[f"overhead_us_{calls}"] = wall / (runs * s.model_calls) * 1e6
    ten = script(1, 10, TEN_MS)
    wall = await median_wall(
        peer,
        ten,
        runs=1,
        batches=max(5, batches),
        warmup=1,
        mode=peer.default_mode,
        what="10 x 50 ms",
    )
    out["ten50_ms"] = wall * 1000
    out["ten50_ratio"] = wall * 1000 / TEN_MS
    mixed = script(1, len(MIXED_MS), list(MIXED_MS))
    out["mixed"] = {}
    for mode, how in peer.modes.items():
        wall = await median_wall(
            peer, mixed, runs=1, batches=3, warmup=1, mode=mode, what=f"25 mixed ({mode})"
        )
        ideal = mode_ideal_ms(mode, MIXED_MS)
        out["mixed"][mode] = {
            "how": how,
            "wall_ms": wall * 1000,
            "own_ideal_ms": ideal,
            "vs_own_ideal": wall * 1000 / ideal,
            "vs_window_ideal": wall * 1000 / window_ideal(MIXED_MS, WINDOW),
        }
    out["mixed_default_mode"] = peer.default_mode
    return out


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {key}")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux clear_refs 5); False when not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def raise_nofile(need: int) -> None:
    """Raise the open-files soft limit to `need` (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        top = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))


async def scale_batch(peer: Peer, s: Script, runs: int) -> tuple[float, int]:
    """One batch of `runs` concurrent runs: (wall s, peak RSS KiB during the batch)."""
    gc.collect()
    COUNTS.reset()
    reset = _reset_peak()
    start = time.perf_counter()
    answers = await asyncio.gather(*(peer.run(s, peer.default_mode) for _ in range(runs)))
    wall = time.perf_counter() - start
    peak = _status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    check(f"{runs} concurrent runs", s, runs, list(answers))
    del answers
    if peer.cleanup is not None:
        peer.cleanup()
    return wall, peak


async def scale_figures(peer: Peer, batches: int, runs: int = SCALE_RUNS) -> dict[str, Any]:
    """Workload 4: `runs` runs started at once, 5 rounds each (100 ms model, one tool call).

    Memory is the peak RSS over the batches less the RSS after setup (a 20-run warm-up),
    divided by `runs`: later batches reuse what the first one grew, so the peak is the
    first batch's in practice.
    """
    raise_nofile(4 * runs + 256)
    s = script(SCALE_ROUNDS, 1, 0.0, SCALE_LATENCY_S)
    await scale_batch(peer, s, 20)  # warm-up: imports, caches, first-use costs
    gc.collect()
    baseline = _status_kib("VmRSS")
    results = [await scale_batch(peer, s, runs) for _ in range(batches)]
    walls = [r[0] for r in results]
    peak = max(r[1] for r in results)
    ideal = s.model_calls * SCALE_LATENCY_S
    wall = median(walls)
    return {
        "scale_runs": runs,
        "scale_wall_s": wall,
        "scale_walls_s": walls,
        "scale_ideal_s": ideal,
        "scale_ratio": wall / ideal,
        "scale_baseline_kib": baseline,
        "scale_peak_kib": peak,
        "scale_kib_per_run": (peak - baseline) / runs,
        "scale_batches": batches,
    }


def main(peer: Peer) -> None:
    """`python -m bench.peers.<peer> rounds|scale [batches] [runs]`: print the figures as JSON."""
    what = sys.argv[1] if len(sys.argv) > 1 else "rounds"
    batches = int(sys.argv[2]) if len(sys.argv) > 2 else (7 if what == "rounds" else 3)
    if peer.setup is not None:
        peer.setup()
    if what == "rounds":
        figures = asyncio.run(rounds_figures(peer, batches))
    elif what == "scale":
        runs = int(sys.argv[3]) if len(sys.argv) > 3 else SCALE_RUNS
        figures = asyncio.run(scale_figures(peer, batches, runs))
    else:
        raise SystemExit(f"unknown workload set {what!r}: use rounds or scale")
    meta = {
        "peer": peer.name,
        "version": peer.version,
        "python": sys.version.split()[0],
        "config": peer.config,
        "workarounds": peer.workarounds,
    }
    print(json.dumps({**meta, **figures}))
