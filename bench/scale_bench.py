"""Concurrent runs in one process: 1,000 and 10,000 runs started at once (issue 17 item 4).

Each run: a 100 ms model, 5 rounds of one read, then the answer (ideal 600 ms), transcripts on
tmpfs, gate and logging on. Every size runs in a fresh interpreter so one does not warm the other.
"""

from __future__ import annotations

import json
import subprocess
import sys

SIZES = (1_000, 10_000)
WALL_GOAL = 2.0
KIB_GOAL = 32.0


def scale_run(runs: int, batches: int = 1) -> dict[str, float]:
    """One fresh process running `runs` concurrent runs: wall / ideal and KiB per run."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.peers.peer_mana", "scale", str(batches), str(runs)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        f"scale{runs}_vs_ideal": float(figures["scale_ratio"]),
        f"scale{runs}_kib_per_run": float(figures["scale_kib_per_run"]),
    }


def scale_figures() -> dict[str, float]:
    """Both sizes' figures."""
    out: dict[str, float] = {}
    for runs in SIZES:
        out.update(scale_run(runs))
    return out
