"""mana-planner, run as a user runs it: transcript file, policy gate and logging on."""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio

from bench.peers.common import ANSWER, COUNTS, Peer, Script, main
from bench.workloads import SleepIn, SleepOut
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


async def _sleep(ctx: ToolContext, inp: SleepIn) -> SleepOut:
    COUNTS.tool_calls += 1
    if inp.ms:
        await anyio.sleep(inp.ms / 1000)
    return SleepOut()


TOOLS = ToolRegistry(
    [
        ToolSpec(
            "bench.sleep",
            "Sleep for ms milliseconds.",
            SleepIn,
            SleepOut,
            _sleep,
            policy_hint="read",
        )
    ]
)
SHM = Path("/dev/shm")
ON_DISK = os.environ.get("MANA_BENCH_TRANSCRIPTS") == "disk"
# transcripts go to tmpfs when there is one: creating a file on this VM's ext4 disk costs
# 0.2 to 0.8 ms, a property of the disk that `scale_disk` reports separately
TMP = Path(tempfile.mkdtemp(prefix="mana-bench-", dir=None if ON_DISK or not SHM.is_dir() else SHM))
atexit.register(shutil.rmtree, TMP, True)
_ids = itertools.count(1)
_STEPS: dict[Script, list[dict[str, Any]]] = {}


def steps_for(s: Script) -> list[dict[str, Any]]:
    """ScriptedModel steps for `s` (built once per script)."""
    if s not in _STEPS:
        steps: list[dict[str, Any]] = [
            {"tool_calls": [{"name": "bench.sleep", "arguments": {"ms": d}} for d in delays]}
            for delays in s.rounds
        ]
        _STEPS[s] = [*steps, {"text": ANSWER}]
    return _STEPS[s]


async def run(s: Script, mode: str) -> str:
    """One run: fresh model, gate and transcript file, as the mission runner makes them."""
    n = next(_ids)
    # keep_requests=False: a real adapter keeps no list of its requests (a harness cost)
    model = ScriptedModel(steps_for(s), latency_s=s.latency_s, keep_requests=False)
    with FileTranscript(TMP / f"run-{n}.jsonl") as transcript:
        result = await run_planner_loop(
            PlannerLoopInput(
                model=model,
                system_prompt="bench",
                user_prompt="bench",
                tools=TOOLS,
                context=ToolContext("bench-user", "bench-space", f"run-{n}"),
                policy=PolicyGate(mode=PolicyMode.LOG_ONLY, default_limit=10**9),
                is_parallel_safe=read_tools_are_parallel_safe if mode == "window10" else None,
                max_rounds=s.model_calls + 1,
                transcript=transcript,
            )
        )
    COUNTS.model_calls += model.calls
    return result.summary


def cleanup() -> None:
    """Delete the batch's transcripts (outside the timed part)."""
    for path in TMP.glob("run-*.jsonl"):
        path.unlink()


def setup() -> None:
    """Structured logging on at info level, written to /dev/null."""
    configure_logging("info", json_lines=True, stream=open(os.devnull, "w"))  # noqa: SIM115


PEER = Peer(
    name=os.environ.get("MANA_BENCH_LABEL", "mana-planner"),
    version=version("mana-planner"),
    run=run,
    modes={
        "window10": "default: sliding window of 10 (PARALLEL_TOOL_BATCH_SIZE)",
        "sequential": "is_parallel_safe=None",
    },
    default_mode="window10",
    config=[
        "FileTranscript per run (JSONL; lines made together share one write) on tmpfs",
        "PolicyGate log-only per run",
        "structlog JSON lines at info level (to /dev/null)",
        "ScriptedModel with latency_s; tool arguments as parsed dicts (adapters parse JSON)",
    ],
    setup=setup,
    cleanup=cleanup,
)

if __name__ == "__main__":
    main(PEER)
