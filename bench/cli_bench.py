"""CLI start-up, as ratios of fresh-process walls measured alternately in one run.

`mana-planner --help` against `python -c "import typer"` (goal <= 2; piped is what scripts see,
plain help; on a terminal typer renders rich help), and `mana-planner run` of a one-round
scripted mission against `python -c "import dbos, sqlalchemy"` (goal <= 2).
`run_startup_split` says where that run's wall goes (`python -m bench.cli_bench` prints both).
"""

from __future__ import annotations

import json
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 9


ONE_ROUND = """id = "one-round"
title = "One round"
objective = "Say done."
model = "scripted:{steps}"
tools = ["todo.list"]
user_id = "bench"
mode = "execute"
"""


def _wall(args: list[str], tty: bool = False, env: dict[str, str] | None = None) -> float:
    """Seconds from spawn to exit; stdout to /dev/null or to a pseudo-terminal."""
    primary, secondary = pty.openpty() if tty else (None, None)
    sink = secondary if tty else subprocess.DEVNULL
    start = time.perf_counter()
    subprocess.run(args, stdout=sink, stderr=subprocess.DEVNULL, cwd=ROOT, check=True, env=env)
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
        **run_startup_figures(),
    }


def _one_round(tmp: str) -> tuple[list[str], dict[str, str]]:
    """The arguments of `run` of a one-round scripted mission in `tmp`, and its environment."""
    steps, mission = Path(tmp) / "steps.json", Path(tmp) / "one-round.toml"
    steps.write_text(json.dumps([{"text": "done"}]))
    mission.write_text(ONE_ROUND.format(steps=steps))
    env = {**os.environ, "MANA_VAR_DIR": f"{tmp}/var"}
    env.pop("MANA_DATABASE_URL", None)
    return ["run", str(mission), "--runs-dir", tmp], env


def run_startup_figures(repeats: int = 3) -> dict[str, float]:
    """Median walls of `import dbos, sqlalchemy` and of a one-round scripted `run`, and ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        args, env = _one_round(tmp)
        run = [sys.executable, "-m", "mana_planner", *args]
        imports = [sys.executable, "-c", "import dbos, sqlalchemy"]
        base, runs = [], []
        for _ in range(repeats):
            base.append(_wall(imports))
            runs.append(_wall(run, env=env))
    return {
        "import_dbos_sqlalchemy_s": statistics.median(base),
        "cli_run_one_round_s": statistics.median(runs),
        "cli_run_vs_import_dbos_sqlalchemy": statistics.median(runs) / statistics.median(base),
    }


SPLIT = (
    ("interpreter_start", "spawn", "python_started"),
    ("imports", "python_started", "imports_done"),
    ("before_launch", "imports_done", "launch_start"),
    ("dbos_launch", "launch_start", "launch_end"),
    ("workflow_start", "launch_end", "store_open_start"),
    ("store_open", "store_open_start", "store_open_end"),
    ("run", "store_open_end", "store_close_start"),
    ("store_close", "store_close_start", "store_close_end"),
    ("until_destroy", "store_close_end", "destroy_start"),
    ("dbos_destroy", "destroy_start", "destroy_end"),
    ("after_destroy", "destroy_end", "main_done"),
    ("interpreter_exit", "main_done", "exit"),
    ("total", "spawn", "exit"),
)
"""Each phase of a `run` process by the marks of bench/startup_probe.py that bound it."""


def run_startup_split(repeats: int = 3) -> dict[str, float]:
    """Median seconds per phase of a one-round scripted `run` (imports, DBOS launch, store,
    run, DBOS destroy, interpreter exit), from wall-clock marks the process writes."""
    phases: dict[str, list[float]] = {name: [] for name, _, _ in SPLIT}
    with tempfile.TemporaryDirectory() as tmp:
        args, env = _one_round(tmp)
        env["MANA_STARTUP_MARKS"] = f"{tmp}/marks.json"
        for _ in range(repeats):
            spawn = time.time()
            _wall([sys.executable, "-m", "bench.startup_probe", *args], env=env)
            marks = {"spawn": spawn, "exit": time.time()}
            marks.update(json.loads(Path(env["MANA_STARTUP_MARKS"]).read_text()))
            for name, start, end in SPLIT:
                phases[name].append(marks[end] - marks[start])
    return {f"{name}_s": statistics.median(values) for name, values in phases.items()}


if __name__ == "__main__":
    for key, value in {**cli_startup_figures(), **run_startup_split()}.items():
        print(f"{key}: {value:.3f}")
