"""`make bench`: the engine's figures and the goals of issues 9, 12, 13 and 17, as tables and JSON.

`python -m bench --update-readme` also rewrites the README section between the
`<!-- bench:start -->` and `<!-- bench:end -->` markers with the figures of this run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.cli_bench import cli_startup_figures
from bench.gate_bench import GOAL_US_PER_KIB, gate_worst_figures
from bench.gateway_bench import gateway_figures
from bench.gateway_hostile import GOAL_P99_MS, hostile_figures
from bench.regress import compare, report
from bench.scale_bench import KIB_GOAL, WALL_GOAL, scale_figures
from bench.subagents_bench import subagent_figures
from bench.workloads import (
    dbos_step_cost,
    engine_figures,
    gate_us_median,
    replay_rounds,
    transcript_share,
)

RESULTS = Path(__file__).parent / "results" / "engine.json"
README = Path(__file__).parent.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

GATE_GOAL_US = 10.0
SHARE_GOAL = 0.10
REPLAY_GOAL_S = 1.0
TEN_READS_GOAL = 1.04
GATEWAY_GOAL = 0.95
STARTUP_GOAL = 2.0

LABELS: dict[str, tuple[str, str]] = {
    "overhead_us_per_round_1call": ("overhead per round, 1 call (bare loop)", "µs"),
    "overhead_us_per_round_1call_full": ("overhead per round, 1 call (transcript + gate)", "µs"),
    "overhead_us_per_round_10call": ("overhead per round, 10 calls (bare loop)", "µs"),
    "overhead_us_per_round_10call_full": (
        "overhead per round, 10 calls (transcript + gate)",
        "µs",
    ),
    "ten_50ms_ratio": ("10 reads of 50 ms, run wall / 50 ms", "×"),
    "ten_50ms_timer_ratio": ("  of which asyncio's timer: 10 bare 50 ms sleeps / 50 ms", "×"),
    "ten_50ms_engine_ms": ("  of which the engine: 2 model turns + dispatch (wall - sleep)", "ms"),
    "mixed25_vs_window": ("25 mixed reads, wall / 10-slot window ideal (255 ms)", "×"),
    "gate_us_per_decision": ("policy gate per decision, 1 KiB of arguments", "µs"),
    "gate_worst_us_per_kib": ("policy gate on hostile arguments, worst µs per KiB", "µs"),
    "gate_worst_json_us_per_kib": ("policy gate, worst µs per KiB, JSON-borne input", "µs"),
    "transcript_share_1call": ("transcript recording, share of loop overhead (1 call)", "%"),
    "transcript_share_10call": ("transcript recording, share of loop overhead (10 calls)", "%"),
    "transcript_share_1call_cpu": ("transcript recording, share of loop CPU time (1 call)", "%"),
    "transcript_share_10call_cpu": ("transcript recording, share of loop CPU time (10 calls)", "%"),
    "transcript_file_share_1call": ("  of which creating + closing the file (1 call)", "%"),
    "transcript_events_share_1call": ("  of which recording the events (1 call)", "%"),
    "transcript_file_share_10call": ("  of which creating + closing the file (10 calls)", "%"),
    "transcript_events_share_10call": ("  of which recording the events (10 calls)", "%"),
    "replay_total_s": ("replay of a 1,000-round transcript (load + replay)", "s"),
    "subagents5_vs_ideal": ("5 research sub-agents in one round (3 x 50 ms), wall / 150 ms", "×"),
    "scale1000_vs_ideal": ("1,000 concurrent runs, wall / ideal (600 ms)", "×"),
    "scale1000_kib_per_run": ("1,000 concurrent runs, peak RSS per run", "KiB"),
    "scale10000_vs_ideal": ("10,000 concurrent runs, wall / ideal (600 ms)", "×"),
    "scale10000_kib_per_run": ("10,000 concurrent runs, peak RSS per run", "KiB"),
    "list_under_attack_p99_ms": ("gateway tools/list p99 under hostile arguments", "ms"),
    "gateway_vs_bare_ratio_current": ("MCP gateway calls/s vs a bare SDK server (current)", "×"),
    "gateway_vs_bare_ratio_legacy": ("MCP gateway calls/s vs a bare SDK server (legacy)", "×"),
    "gateway_p99_ms_100_clients": ("MCP gateway tools/call p99, 100 concurrent clients", "ms"),
    "bare_p99_ms_100_clients": ("bare SDK server tools/call p99, 100 concurrent clients", "ms"),
    "gateway_p99_ms_100_clients_legacy": ("MCP gateway p99, 100 clients (legacy)", "ms"),
    "bare_p99_ms_100_clients_legacy": ("bare SDK server p99, 100 clients (legacy)", "ms"),
}


def fmt(value: float, unit: str) -> str:
    """A figure with its unit, as the README shows it."""
    if unit == "%":
        return f"{value * 100:.1f} %"
    if unit == "×":
        return f"{value:.3f}"
    if unit == "KiB":
        return f"{value:.1f} KiB"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.3f} s"
    return f"{value:,.0f} µs" if value >= 100 else f"{value:.1f} µs"


GOALS: tuple[tuple[str, str, float, str], ...] = (
    ("policy gate ≤ 10 µs per decision", "gate_us_per_decision", GATE_GOAL_US, "µs"),
    ("gate ≤ 50 µs per KiB, worst hostile input", "gate_worst_us_per_kib", GOAL_US_PER_KIB, "µs"),
    (
        "gate ≤ 50 µs per KiB, worst JSON-borne input",
        "gate_worst_json_us_per_kib",
        GOAL_US_PER_KIB,
        "µs",
    ),
    ("transcript ≤ 10 % of loop overhead (1 call)", "transcript_share_1call", SHARE_GOAL, "%"),
    ("transcript ≤ 10 % of loop overhead (10 calls)", "transcript_share_10call", SHARE_GOAL, "%"),
    ("10 reads of 50 ms ≤ 1.04 × 50 ms", "ten_50ms_ratio", TEN_READS_GOAL, "×"),
    ("replay of 1,000 rounds < 1 s", "replay_total_s", REPLAY_GOAL_S, "s"),
    ("1,000 concurrent runs ≤ 2 × ideal", "scale1000_vs_ideal", WALL_GOAL, "×"),
    ("10,000 concurrent runs ≤ 2 × ideal", "scale10000_vs_ideal", WALL_GOAL, "×"),
    ("10,000 concurrent runs ≤ 32 KiB per run", "scale10000_kib_per_run", KIB_GOAL, "KiB"),
    ("durable step ≤ 1 ms over the plain loop (SQLite)", "dbos_sqlite_us_per_step", 1000.0, "µs"),
    (
        "durable step ≤ 1.5 ms over the plain loop (PostgreSQL)",
        "dbos_postgres_us_per_step",
        1500.0,
        "µs",
    ),
    (
        "gateway ≥ 0.95 of a bare SDK server (current protocol)",
        "gateway_vs_bare_ratio_current",
        -GATEWAY_GOAL,
        "×",
    ),
    (
        "gateway ≥ 0.95 of a bare SDK server (legacy protocol)",
        "gateway_vs_bare_ratio_legacy",
        -GATEWAY_GOAL,
        "×",
    ),
    ("tools/list p99 < 100 ms under attack", "list_under_attack_p99_ms", GOAL_P99_MS, "ms"),
    ("`--help` ≤ 2 × `import typer`", "cli_help_vs_import_typer", STARTUP_GOAL, "×"),
    (
        "one-round `run` ≤ 2 × `import dbos, sqlalchemy`",
        "cli_run_vs_import_dbos_sqlalchemy",
        STARTUP_GOAL,
        "×",
    ),
)
"""(goal, figure key, limit, unit); a negative limit is a floor (the figure must reach it)."""


def goal_rows(figures: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(goal, figure, ratio to the limit, met) for every goal this run measured."""
    rows = []
    for label, key, limit, unit in GOALS:
        if key not in figures:
            continue
        value = float(figures[key])
        met = value >= -limit if limit < 0 else value <= limit
        rows.append((label, fmt(value, unit), f"{value / abs(limit):.2f}", met))
    return rows


def markdown(figures: dict[str, Any]) -> str:
    """The README table: every figure, then the goals with their verdicts."""
    lines = ["| figure | value |", "|---|---|"]
    for key, (label, unit) in LABELS.items():
        if key in figures:
            lines.append(f"| {label} | {fmt(float(figures[key]), unit)} |")
    lines.append(f"| durable DBOS run, per-step cost against the plain loop | {figures['dbos']} |")
    lines += [
        "",
        "The overhead rows and the transcript share create each run's transcript file on the disk "
        "under `runs/`, as a user's run does; the replay uses tmpfs. DBOS keeps its system "
        "database in SQLite on the disk, or in a local PostgreSQL when one is configured "
        "(`MANA_DATABASE_URL` or `MANA_TEST_PG_URL`).",
        "",
        "| goal (issues 9, 12, 13, 17) | measured | ratio to the limit | met |",
        "|---|---|---|---|",
    ]
    for label, value, ratio, met in goal_rows(figures):
        lines.append(f"| {label} | {value} | {ratio} | {'yes' if met else '**no**'} |")
    return "\n".join(lines) + "\n"


def update_readme(section: str) -> None:
    """Replace the README text between the bench markers with `section`."""
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{section}{END}{after}")


def main() -> None:
    """Run every engine workload and print the figures and goals."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the README table")
    args = parser.parse_args()
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    figures: dict[str, Any] = dict(engine_figures())
    figures["gate_us_per_decision"] = gate_us_median()
    figures.update(gate_worst_figures())
    figures.update(transcript_share())
    figures.update(replay_rounds())
    figures.update(subagent_figures())
    figures.update(gateway_figures())
    figures.update(scale_figures())
    figures.update(hostile_figures())
    figures.update(cli_startup_figures())  # `--help` vs `import typer` (goal <= 2)
    dbos = dbos_step_cost()
    figures.update({k: v for k, v in dbos.items() if k != "dbos_per_step"})
    figures["dbos"] = dbos["dbos_per_step"]
    console = Console(width=max(Console().width, 110))
    table = Table(title="mana-planner engine (median of batches, one process)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    goals = Table(title="goals (issues 9, 12, 13, 17)")
    for col in ("goal", "measured", "ratio to the limit", "met"):
        goals.add_column(col)
    for label, value, ratio, met in goal_rows(figures):
        goals.add_row(label, value, ratio, "yes" if met else "NO")
    console.print(goals)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    section = markdown(figures)
    (RESULTS.parent / "engine.md").write_text(section)
    if args.update_readme:
        update_readme(section)
    if stored is not None:
        rows = compare(stored, figures)
        console.print(report(rows), markup=False, highlight=False)
        regressed = [r.key for r in rows if r.regressed]
        if regressed:
            raise SystemExit(f"regressed by more than 25% against the stored run: {regressed}")


if __name__ == "__main__":
    main()
