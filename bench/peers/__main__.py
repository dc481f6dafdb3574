"""`make bench-peers`: our engine and every peer on the same workloads, in one go.

Each runtime runs in its own fresh subprocess (`python -m bench.peers.peer_<name>`), once for
the round workloads and once more for the 1,000 concurrent runs, and prints its figures as
JSON. This driver collects them, prints a rich table, writes `bench/results/peers.json`,
`bench/results/peers.md` (the README table) and draws `bench/results/peers.png`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.peers.common import MIXED_MS, WINDOW, window_ideal

RESULTS = Path(__file__).parent.parent / "results"
README = Path(__file__).parent.parent.parent / "README.md"
OURS = "mana"
PEERS = ("pydantic_ai", "openai_agents", "langgraph")
START, END = "<!-- peers:start -->", "<!-- peers:end -->"


CANDIDATE = "mana-candidate"
LAUNCH_CANDIDATE = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
    "sys.path[:0] = [sys.argv.pop(1), '.']; "
    "runpy.run_module('bench.peers.peer_mana', run_name='__main__', alter_sys=True)"
)


def run_peer(
    name: str, what: str, batches: int | None, candidate: str | None = None
) -> dict[str, Any]:
    """Run one peer script in a fresh subprocess and parse the JSON it prints."""
    env = dict(os.environ)
    if name == CANDIDATE:
        # our loop with the `planner` package of another tree (a proposed engine change)
        cmd = [sys.executable, "-c", LAUNCH_CANDIDATE, str(candidate), what]
        env["MANA_BENCH_LABEL"] = "mana-planner (candidate engine)"
    else:
        cmd = [sys.executable, "-m", f"bench.peers.peer_{name}", what]
    if batches is not None:
        cmd.append(str(batches))
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"{' '.join(cmd)} printed no figures:\n{proc.stdout}{proc.stderr}")
    figures: dict[str, Any] = json.loads(lines[-1])
    print(f"  {name} {what}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return figures


def collect(
    names: list[str], scale: bool, batches: int | None, candidate: str | None
) -> dict[str, dict[str, Any]]:
    """Every runtime's figures, round workloads first, then the scale workload."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        out[name] = run_peer(name, "rounds", batches, candidate)
    if scale:
        for name in names:
            out[name].update(run_peer(name, "scale", None, candidate))
    return out


def fmt(value: float | None, unit: str = "") -> str:
    """A figure for a table cell."""
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}{unit}"
    if value >= 10:
        return f"{value:.1f}{unit}"
    return f"{value:.2f}{unit}"


def mixed_default(fig: dict[str, Any]) -> dict[str, Any]:
    """The mixed-workload entry of a runtime's default concurrency mode."""
    entry: dict[str, Any] = fig["mixed"][fig["mixed_default_mode"]]
    return entry


ROWS: list[tuple[str, str, str]] = [
    # key, label, unit
    ("overhead_us_1", "overhead per round, 1 zero-delay call", " µs"),
    ("overhead_us_10", "overhead per round, 10 zero-delay calls", " µs"),
    ("ten50_ratio", "10 calls of 50 ms in one round: wall / 50 ms", "×"),
    ("mixed_wall_ms", "25 mixed calls (150 - 5i ms): wall", " ms"),
    ("mixed_vs_window", "25 mixed: wall / 10-slot window ideal (255 ms)", "×"),
    ("scale_ratio", "1,000 concurrent runs: wall / ideal (600 ms)", "×"),
    ("scale_kib_per_run", "1,000 concurrent runs: peak RSS per run", " KiB"),
]


def value(fig: dict[str, Any], key: str) -> float | None:
    """One figure of a runtime, derived ones included."""
    if key == "mixed_wall_ms":
        return float(mixed_default(fig)["wall_ms"])
    if key == "mixed_vs_window":
        return float(mixed_default(fig)["vs_window_ideal"])
    got = fig.get(key)
    return None if got is None else float(got)


def goals(results: dict[str, dict[str, Any]], key: str = OURS) -> list[dict[str, Any]]:
    """Each goal of issue 9 with our figure, its target and whether it is met."""
    ours = results[key]
    peers = [results[p] for p in results if p not in (OURS, CANDIDATE)]
    out: list[dict[str, Any]] = []
    for calls in (1, 10):
        key = f"overhead_us_{calls}"
        best = min((p[key], p["peer"]) for p in peers) if peers else (float("nan"), "-")
        target = best[0] / 10
        out.append(
            {
                "goal": f"overhead per round, {calls} call(s): ≤ 1/10 of the fastest peer "
                f"({best[1]}, {fmt(best[0], ' µs')})",
                "ours": ours[key],
                "target": target,
                "ratio": ours[key] / best[0],
                "ratio_label": f"{ours[key] / best[0]:.3f} of the fastest peer",
                "met": ours[key] <= target,
            }
        )
    checks: list[tuple[str, float | None, float]] = [
        ("10 × 50 ms: wall / 50 ms ≤ 1.04", value(ours, "ten50_ratio"), 1.04),
        ("25 mixed: wall / 10-slot window ideal ≤ 1.05", value(ours, "mixed_vs_window"), 1.05),
        ("1,000 concurrent runs: wall / ideal ≤ 2", value(ours, "scale_ratio"), 2.0),
        ("1,000 concurrent runs: ≤ 48 KiB per run", value(ours, "scale_kib_per_run"), 48.0),
    ]
    for label, got, target in checks:
        if got is None:
            continue
        out.append(
            {
                "goal": label,
                "ours": got,
                "target": target,
                "ratio": got / target,
                "ratio_label": f"{got / target:.2f} of the limit",
                "met": got <= target,
            }
        )
    return out


def table(results: dict[str, dict[str, Any]]) -> Table:
    """The side-by-side rich table."""
    t = Table(title="mana-planner vs peers (median of batches; each runtime in a fresh process)")
    t.add_column("figure")
    for fig in results.values():
        t.add_column(f"{fig['peer']} {fig['version'].split()[0]}", justify="right")
    for key, label, unit in ROWS:
        t.add_row(label, *(fmt(value(f, key), unit) for f in results.values()))
    return t


def modes_table(results: dict[str, dict[str, Any]]) -> Table:
    """The mixed workload in every concurrency mode each runtime offers."""
    t = Table(title="25 mixed calls: each runtime's own concurrency modes")
    for col in ("runtime", "mode", "configured as", "wall", "own ideal", "wall / own ideal"):
        t.add_column(col)
    for fig in results.values():
        for mode, m in fig["mixed"].items():
            t.add_row(
                fig["peer"],
                mode,
                m["how"],
                fmt(m["wall_ms"], " ms"),
                fmt(m["own_ideal_ms"], " ms"),
                f"{m['vs_own_ideal']:.3f}",
            )
    return t


def goals_table(rows: list[dict[str, Any]], which: str = "mana-planner") -> Table:
    """Goals with our figure and the verdict."""
    t = Table(title=f"issue 9 goals ({which} with transcript, policy gate and logging on)")
    for col in ("goal", "ours", "limit", "ratio", "met"):
        t.add_column(col)
    for g in rows:
        t.add_row(
            g["goal"],
            fmt(g["ours"]),
            fmt(g["target"]),
            g["ratio_label"],
            "yes" if g["met"] else "NO",
        )
    return t


def markdown(
    results: dict[str, dict[str, Any]],
    goal_rows: list[dict[str, Any]],
    cand_rows: list[dict[str, Any]] | None = None,
) -> str:
    """The README section: side-by-side table, goals, modes, configuration and the chart."""
    names = list(results.values())
    head = "| figure | " + " | ".join(
        f"{f['peer']} {f['version'].split()[0]}{' ²' if f.get('workarounds') else ''}"
        for f in names
    )
    lines = [head + " |", "|---|" + "---:|" * len(names)]
    for key, label, unit in ROWS:
        cells = []
        for f in names:
            cell = fmt(value(f, key), unit)
            if key.startswith("mixed") and f["mixed_default_mode"] == "uncapped":
                cell += " ¹"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"¹ The peers start all 25 calls at once, so they finish near the slowest call "
        f"({max(MIXED_MS):.0f} ms) and can beat the 10-slot ideal "
        f"({window_ideal(MIXED_MS, WINDOW):.0f} ms); mana-planner caps a round at "
        f"{WINDOW} calls in flight on purpose (a model that asks for 50 reads must not open 50 "
        "connections at once). Every runtime's modes are in the table below.",
        "² Figures measured through a workaround; see the configuration notes.",
        "",
    ]
    if cand_rows:
        lines += [
            "| goal | ours | limit | ratio | met | candidate engine | ratio | met |",
            "|---|---:|---:|---|---|---:|---|---|",
        ]
    else:
        lines += ["| goal | ours | limit | ratio | met |", "|---|---:|---:|---|---|"]
    for i, g in enumerate(goal_rows):
        row = (
            f"| {g['goal']} | {fmt(g['ours'])} | {fmt(g['target'])} | {g['ratio_label']} | "
            f"{'yes' if g['met'] else '**no**'} |"
        )
        if cand_rows:
            c = cand_rows[i]
            row += f" {fmt(c['ours'])} | {c['ratio_label']} | {'yes' if c['met'] else '**no**'} |"
        lines.append(row)
    lines += ["", "| runtime | mode | configured as | wall | own ideal | wall / own ideal |"]
    lines.append("|---|---|---|---:|---:|---:|")
    for f in names:
        for mode, m in f["mixed"].items():
            lines.append(
                f"| {f['peer']} | {mode} | {m['how']} | {fmt(m['wall_ms'], ' ms')} | "
                f"{fmt(m['own_ideal_ms'], ' ms')} | {m['vs_own_ideal']:.3f} |"
            )
    lines += ["", "Configuration of each runtime:", ""]
    for f in names:
        notes = "; ".join(f["config"])
        extra = f" Workarounds: {'; '.join(f['workarounds'])}." if f["workarounds"] else ""
        lines.append(f"- **{f['peer']} {f['version']}**: {notes}.{extra}")
    lines += ["", "![mana-planner against each peer](bench/results/peers.png)"]
    return "\n".join(lines) + "\n"


GOAL_LINES: dict[str, float] = {"ten50_ratio": 1.04, "scale_ratio": 2.0, "scale_kib_per_run": 48.0}


def chart(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Bars of each figure for every runtime (ours highlighted), one panel per workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("overhead_us_1", "overhead per round, 1 call (µs, log)", True),
        ("overhead_us_10", "overhead per round, 10 calls (µs, log)", True),
        ("ten50_ratio", "10 × 50 ms: wall / 50 ms", False),
        ("mixed_wall_ms", "25 mixed: wall (ms)", False),
        ("scale_ratio", "1,000 runs: wall / ideal (log)", True),
        ("scale_kib_per_run", "1,000 runs: KiB per run", False),
    ]
    names = [f["peer"].replace(" (", "\n(") for f in results.values()]
    colors = [
        "#d62728" if k == OURS else "#ff9896" if k == CANDIDATE else "#7f7f7f" for k in results
    ]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, (key, title, log) in zip(axes.flat, panels, strict=True):
        vals = [value(f, key) or 0.0 for f in results.values()]
        bars = ax.bar(names, vals, color=colors)
        ax.set_title(title, fontsize=10)
        if log:
            ax.set_yscale("log")
        ax.bar_label(bars, labels=[fmt(v) for v in vals], fontsize=8)
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
        peer_vals = [value(f, key) for k, f in results.items() if k not in (OURS, CANDIDATE)]
        limit = GOAL_LINES.get(key)
        if key.startswith("overhead") and peer_vals:
            limit = min(v for v in peer_vals if v is not None) / 10
        if key == "mixed_wall_ms":
            limit = window_ideal(MIXED_MS, WINDOW) * 1.05
        if limit is not None:
            ax.axhline(limit, ls="--", c="k", lw=0.8)
            ax.annotate(
                "goal",
                (1.0, limit),
                xycoords=("axes fraction", "data"),
                fontsize=7,
                ha="right",
                va="bottom",
            )
        shown = [v for v in vals if v > 0] + ([limit] if limit is not None else [])
        if log:
            ax.set_ylim(bottom=min(shown) / 2, top=max(shown) * 2)
        else:
            ax.set_ylim(bottom=0, top=max(shown) * 1.15)
    fig.suptitle(
        "mana-planner (red) against each peer, same workloads, one run; lower is better; "
        "dashed: issue 9 goal"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_readme(section: str) -> None:
    """Replace the README text between the peers markers with `section`."""
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{section}{END}{after}")


def main() -> None:
    """Run everything, print the tables, write the results and the chart."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers")
    parser.add_argument("--only", help="comma-separated subset of: mana," + ",".join(PEERS))
    parser.add_argument("--no-scale", action="store_true", help="skip the 1,000-run workload")
    parser.add_argument("--batches", type=int, help="batches for the round workloads")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the README table")
    parser.add_argument(
        "--candidate", help="also run our loop with the planner package found in this directory"
    )
    args = parser.parse_args()
    names = args.only.split(",") if args.only else [OURS, *PEERS]
    if args.candidate:
        names.insert(names.index(OURS) + 1 if OURS in names else 0, CANDIDATE)
    results = collect(names, not args.no_scale, args.batches, args.candidate)
    console = Console(width=max(Console().width, 150))
    console.print(table(results))
    console.print(modes_table(results))
    goal_rows = goals(results) if OURS in results else []
    if goal_rows:
        console.print(goals_table(goal_rows))
    cand_rows = goals(results, CANDIDATE) if CANDIDATE in results else []
    if cand_rows:
        console.print(goals_table(cand_rows, "the candidate engine"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "machine": {"cpus": _cpus(), "python": platform.python_version()},
        "results": results,
        "goals": goal_rows,
        "goals_candidate": cand_rows,
    }
    (RESULTS / "peers.json").write_text(json.dumps(doc, indent=2) + "\n")
    if not args.no_scale:
        section = markdown(results, goal_rows, cand_rows)
        (RESULTS / "peers.md").write_text(section)
        chart(results, RESULTS / "peers.png")
        if args.update_readme:
            update_readme(section)


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
