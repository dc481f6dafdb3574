"""CLI start-up: `mana-planner --help` wall time as a ratio to `python -c "import typer"`.

Each command runs in a fresh process, alternating, and the medians are compared (one run, one
machine). Piped is what scripts see (plain help); on a terminal typer renders rich help.
"""

from __future__ import annotations

import os
import pty
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 9


def _wall(args: list[str], tty: bool = False) -> float:
    """Seconds from spawn to exit; stdout to /dev/null or to a pseudo-terminal."""
    primary, secondary = pty.openpty() if tty else (None, None)
    sink = secondary if tty else subprocess.DEVNULL
    start = time.perf_counter()
    subprocess.run(args, stdout=sink, stderr=subprocess.DEVNULL, cwd=ROOT, check=True)
    elapsed = time.perf_counter() - start
    for fd in (primary, secondary):
        if fd is not None:
            os.close(fd)
    return elapsed


def cli_startup_figures(repeats: int = REPEATS) -> dict[str, float]:
    """Median walls of `import typer`, `--help` piped and on a TTY, and their ratios."""
    typer_only = [sys.executable, "-c", "import typer"]
    helps = [sys.executable, "-m", "mana_planner", "--help"]
    base, piped, tty = [], [], []
    for _ in range(repeats):
        base.append(_wall(typer_only))
        piped.append(_wall(helps))
        tty.append(_wall(helps, tty=True))
    typer_s = statistics.median(base)
    return {
        "import_typer_s": typer_s,
        "cli_help_s": statistics.median(piped),
        "cli_help_vs_import_typer": statistics.median(piped) / typer_s,
        "cli_help_tty_vs_import_typer": statistics.median(tty) / typer_s,
    }


if __name__ == "__main__":
    for key, value in cli_startup_figures().items():
        print(f"{key}: {value:.3f}")
