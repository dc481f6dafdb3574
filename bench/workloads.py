"""Engine workloads shared by our benchmarks and the peer comparison."""

from __future__ import annotations

import heapq
import importlib
import io
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
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


SLEEP = ToolSpec(
    "bench.sleep", "Sleep for ms milliseconds.", SleepIn, SleepOut, _sleep, policy_hint="read"
)


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


async def run_once(steps: list[Any], *, full: bool, runs: RunsDir, latency_s: float = 0.0) -> float:
    """Wall seconds of one run; `full` adds a new transcript file on disk and the policy gate."""
    transcript_file = runs.new() if full else None
    return await run_variant(steps, transcript_file=transcript_file, gate=full, latency_s=latency_s)


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
    with RunsDir() as runs:
        for calls in (1, 10):
            steps = steps_for(20, calls)
            for full in (False, True):
                wall = measure(partial(run_once, steps, full=full, runs=runs), batches)
                key = f"overhead_us_per_round_{calls}call{'_full' if full else ''}"
                figures[key] = wall / 21 * 1e6
        figures.update(ten_reads_split(runs, max(5, batches)))
        mixed = [150.0 - 5 * i for i in range(25)]
        wall = measure(
            lambda: run_once(steps_for(1, 25, mixed), full=True, runs=runs),
            max(3, batches // 2),
            1,
        )
        ideal = window_ideal([m / 1000 for m in mixed], 10)
        figures["mixed25_wall_ms"] = wall * 1000
        figures["mixed25_window_ideal_ms"] = ideal * 1000
        figures["mixed25_vs_window"] = wall / ideal
        figures["mixed25_chunks_ideal_ms"] = chunks_ideal([m / 1000 for m in mixed], 10) * 1000
    return figures


def ten_reads_split(runs: RunsDir, batches: int) -> dict[str, float]:
    """10 reads of 50 ms in one round, and its two parts, measured alternately in one run:
    asyncio's own timer overshoot (10 bare `anyio.sleep(0.05)` in a task group) and the
    engine's part (the run's two model turns and its dispatch: run wall minus the bare wall)."""
    ten = steps_for(1, 10, 50.0)

    async def go() -> tuple[float, float]:
        walls, sleeps = [], []
        for i in range(batches + 1):
            start = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(anyio.sleep, 0.050)
            bare = time.perf_counter() - start
            wall = await run_once(ten, full=True, runs=runs)
            if i:
                walls.append(wall)
                sleeps.append(bare)
        return median(walls), median(sleeps)

    wall, bare = anyio.run(go)
    return {
        "ten_50ms_ratio": wall / 0.050,
        "ten_50ms_timer_ratio": bare / 0.050,
        "ten_50ms_engine_ms": (wall - bare) * 1000,
    }


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


# --- issue 9: our own costs (added; the functions above keep their behaviour) ---------------


async def run_variant(
    steps: list[Any],
    *,
    transcript_file: Path | None,
    gate: bool,
    parallel: bool = True,
    latency_s: float = 0.0,
) -> float:
    """Wall seconds of one run with a transcript file and/or the policy gate switched on."""
    wall, _cpu = await run_timed(
        steps, transcript_file=transcript_file, gate=gate, parallel=parallel, latency_s=latency_s
    )
    return wall


async def run_timed(
    steps: list[Any],
    *,
    transcript_file: Path | None,
    gate: bool,
    parallel: bool = True,
    latency_s: float = 0.0,
    events: bool = True,
) -> tuple[float, float]:
    """(wall, CPU) seconds of one run, its transcript file created and closed inside both
    (as a mission run does); CPU time (user + system) is what machine load hardly moves.
    `events=False` creates and closes the file but gives the loop no transcript (the cost
    of the file alone)."""
    start, cpu = time.perf_counter(), time.process_time()
    file = FileTranscript(transcript_file) if transcript_file is not None else None
    transcript = file if events else None
    inp = PlannerLoopInput(
        model=ScriptedModel(steps, latency_s=latency_s, keep_requests=False),
        system_prompt="bench",
        user_prompt="bench",
        tools=ToolRegistry([SLEEP]),
        context=ToolContext("bench-user", "bench-space", "bench-run"),
        policy=PolicyGate(mode=PolicyMode.LOG_ONLY, default_limit=10**9) if gate else None,
        is_parallel_safe=read_tools_are_parallel_safe if parallel else None,
        max_rounds=len(steps) + 1,
        transcript=transcript,
    )
    result = await run_planner_loop(inp)
    if file is not None:
        file.close()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    expected = sum(len(s.get("tool_calls", ())) for s in steps)
    if len(result.executed_calls) != expected or result.summary != "done":
        raise RuntimeError(f"bench run did {len(result.executed_calls)} of {expected} calls")
    return wall, cpu


class RunsDir:
    """Transcripts on disk under `runs/`, a new file per run as `runs/<run_id>.jsonl` is.

    Reusing one path would truncate a file with data, which ext4 follows with a forced
    write-back (5 ms a file on this VM): a cost of the harness, not of a user's run.
    """

    def __init__(self, root: Path = Path("runs")) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="bench-", dir=root))
        self.made = 0

    def new(self) -> Path:
        """A path no run has used."""
        self.made += 1
        return self.dir / f"run-{self.made}.jsonl"

    def clean(self) -> None:
        """Delete the transcripts so far (call it outside the timed part)."""
        for path in self.dir.glob("run-*.jsonl"):
            path.unlink()

    def __enter__(self) -> RunsDir:
        return self

    def __exit__(self, *_exc: object) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def bench_tmpdir() -> tempfile.TemporaryDirectory[str]:
    """A temporary directory on tmpfs when there is one (creating a file on this VM's ext4
    disk costs 0.2 to 0.8 ms, a property of the disk rather than of the engine)."""
    shm = Path("/dev/shm")
    return tempfile.TemporaryDirectory(prefix="mana-bench-", dir=shm if shm.is_dir() else None)


_SHARE_ARMS = {"with": (True, True), "file_only": (True, False), "without": (False, False)}
"""Arm -> (file created and closed, events recorded)."""


def transcript_share(batches: int = 9) -> dict[str, float]:
    """Transcript recording as a share of loop overhead (gate and logging on in every arm),
    each run writing a new file on disk under `runs/`, by wall and by CPU time.

    A third arm creates and closes the file but records nothing, which splits the share
    into the file's part (creating a file on this disk) and the events' part. The arms
    alternate batch by batch so machine noise hits them alike.
    """
    quiet_logging()
    figures: dict[str, float] = {}
    with RunsDir() as runs:
        for calls in (1, 10):
            steps = steps_for(20, calls)

            async def batch(s: list[Any], file: bool, events: bool) -> tuple[float, float]:
                runs.clean()
                times = [
                    await run_timed(
                        s, transcript_file=runs.new() if file else None, gate=True, events=events
                    )
                    for _ in range(5)
                ]
                return sum(t[0] for t in times), sum(t[1] for t in times)

            async def go(s: list[Any] = steps) -> dict[str, tuple[float, float]]:
                arms: dict[str, list[tuple[float, float]]] = {k: [] for k in _SHARE_ARMS}
                for i in range(batches + 2):
                    for name, (file, events) in _SHARE_ARMS.items():
                        got = await batch(s, file, events)
                        if i >= 2:
                            arms[name].append(got)
                return {
                    k: (median(t[0] for t in v), median(t[1] for t in v)) for k, v in arms.items()
                }

            figures.update(_share_figures(calls, anyio.run(go)))
    return figures


def _share_figures(calls: int, arms: dict[str, tuple[float, float]]) -> dict[str, float]:
    """The share figures of one call count from its arms' (wall, CPU) medians of 5 runs."""
    (with_wall, with_cpu), (file_wall, file_cpu) = arms["with"], arms["file_only"]
    without_wall, without_cpu = arms["without"]
    per_round = 5 * 21
    return {
        f"loop_us_per_round_{calls}call_with_transcript": with_wall / per_round * 1e6,
        f"loop_us_per_round_{calls}call_no_transcript": without_wall / per_round * 1e6,
        f"transcript_share_{calls}call": (with_wall - without_wall) / with_wall,
        f"transcript_share_{calls}call_cpu": (with_cpu - without_cpu) / with_cpu,
        f"transcript_file_share_{calls}call": (file_wall - without_wall) / with_wall,
        f"transcript_events_share_{calls}call": (with_wall - file_wall) / with_wall,
        f"transcript_events_share_{calls}call_cpu": (with_cpu - file_cpu) / with_cpu,
    }


def replay_rounds(rounds: int = 1000) -> dict[str, float]:
    """Record a `rounds`-round run to a transcript, then time loading and replaying it."""
    from planner.replay import RecordedRun, replay_run

    quiet_logging()
    with bench_tmpdir() as d:
        path = Path(d) / "long.jsonl"
        steps = steps_for(rounds, 1)
        anyio.run(lambda: run_variant(steps, transcript_file=path, gate=True))

        async def replay() -> tuple[float, float, bool, int]:
            start = time.perf_counter()
            run = RecordedRun.load(path)
            loaded = time.perf_counter()
            report = await replay_run(run)
            done = time.perf_counter()
            return loaded - start, done - start, report.identical, report.result.rounds

        load_s, total_s, identical, replayed = anyio.run(replay)
        if not identical or replayed != rounds + 1:
            raise RuntimeError(f"replay of {rounds} rounds: identical={identical}, {replayed}")
        return {
            "replay_rounds": float(rounds),
            "replay_load_s": load_s,
            "replay_total_s": total_s,
            "transcript_kib": path.stat().st_size / 1024,
        }


def gate_us_median(passes: int = 5) -> float:
    """The policy gate's µs per decision: median of `passes` passes (machine noise)."""
    return median(gate_us_per_decision() for _ in range(passes))


async def _durable_runs(db_url: str, steps: list[Any], runs: int, tmp: Path) -> list[float]:
    """Wall seconds of `runs` durable runs of `steps` (after one warm-up run) on `db_url`."""
    # imported by name: bench is type-checked on its own, the mission engine is not its code
    config: Any = importlib.import_module("missions.config")
    durable: Any = importlib.import_module("missions.durable")

    cfg = config.MissionConfig.model_validate(
        {
            "id": "bench-durable",
            "title": "Bench durable",
            "objective": "bench",
            "model": "scripted:unused.json",
            "tools": ["*"],
            "user_id": "bench-user",
            "space_id": "bench-space",
            "parallel_reads": True,
            "limits": {"max_rounds": len(steps) + 1},
        }
    )
    engine = durable.DBOSEngine.with_tools(
        ToolRegistry([SLEEP]),
        db_url=db_url,
        runs_dir=tmp / "runs",
        model_for=lambda _spec: ScriptedModel(steps),
    )
    await anyio.to_thread.run_sync(engine.launch)
    walls = []
    try:
        for i in range(runs + 1):
            start = time.perf_counter()
            run = await engine.run(cfg, run_id=f"bench-{time.time_ns()}-{i}")
            wall = time.perf_counter() - start
            expected = sum(len(s.get("tool_calls", ())) for s in steps)
            if len(run.result.executed_calls) != expected or run.result.summary != "done":
                raise RuntimeError(f"durable run did {len(run.result.executed_calls)} calls")
            if i:
                walls.append(wall)
    finally:
        await anyio.to_thread.run_sync(engine.shutdown)
    return walls


def dbos_step_cost(rounds: int = 20, runs: int = 5) -> dict[str, Any]:
    """A durable DBOS run's cost per step (each model call and tool call) over the plain loop.

    Both run 20 rounds of one zero-delay read plus the answer with a transcript and the gate;
    SQLite on this machine's disk, and PostgreSQL when MANA_DATABASE_URL or MANA_TEST_PG_URL
    names one (CI starts it with scripts/pg.sh).
    """
    try:
        importlib.import_module("missions.durable")
    except ImportError:
        return {"dbos_per_step": "pending durable engine"}
    quiet_logging()
    steps = steps_for(rounds, 1)
    n_steps = rounds * 2 + 1
    out: dict[str, Any] = {"dbos_steps_per_run": float(n_steps)}
    with tempfile.TemporaryDirectory(prefix="mana-bench-dbos-") as d:
        tmp = Path(d)
        plain_runs = RunsDir(tmp / "plain")

        async def plain() -> list[float]:
            await run_variant(steps, transcript_file=plain_runs.new(), gate=True)
            return [
                await run_variant(steps, transcript_file=plain_runs.new(), gate=True)
                for _ in range(runs)
            ]

        plain_s = median(anyio.run(plain))
        out["plain_run_ms"] = plain_s * 1000
        targets = {"sqlite": f"sqlite:///{tmp / 'dbos.sqlite'}"}
        pg = os.environ.get("MANA_DATABASE_URL") or os.environ.get("MANA_TEST_PG_URL")
        if pg:
            targets["postgres"] = pg
        for name, url in targets.items():
            durable_s = median(anyio.run(_durable_runs, url, steps, runs, tmp))
            out[f"dbos_{name}_run_ms"] = durable_s * 1000
            out[f"dbos_{name}_us_per_step"] = (durable_s - plain_s) / n_steps * 1e6
    per_step = ", ".join(
        f"{k.split('_')[1]} {v:,.0f} µs" for k, v in out.items() if k.endswith("_us_per_step")
    )
    out["dbos_per_step"] = f"{per_step} per step over the plain loop ({n_steps} steps a run)"
    return out
