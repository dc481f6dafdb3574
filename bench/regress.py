"""Regression check: a new bench run against the stored one, figure by figure, as ratios.

A figure is more than 25 % worse than the stored figure when, where lower is better (times,
overheads, shares, ratios to an ideal), `new / old > 1.25`, and where higher is better
(throughput, ratios to a bare server), `old / new > 1.25`. Only figures that are ratios measured
in one run (to an ideal, to a bare baseline, shares, memory per run) fail the check: absolute
times move by more than that between two runs of the same code on a shared machine, so they
are shown, marked `worse`, but do not fail. Figures whose direction is not known (counts, sizes
of inputs, labels) are not compared.

`python -m bench.regress OLD.json NEW.json` prints the comparison and exits 1 on a regression.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

TOLERANCE = 0.25
Direction = Literal["lower", "higher"]

HIGHER_IS_BETTER = re.compile(r"calls_per_s|runs_per_s|throughput|vs_bare")
LOWER_IS_BETTER = re.compile(r"_us|_ms|_s$|_s_|ratio|share|vs_|kib_per_run|p99|overhead|wall")
NOT_COMPARED = re.compile(
    r"_ideal_m?s$|^bare_|^import_|replay_rounds|steps_per_run|transcript_kib|baseline|batches"
    r"|_runs$"
)
"""Inputs of a workload and the bare baselines, not our results: they do not regress."""
RATIO_FIGURE = re.compile(r"ratio|vs_(?!goal)|share|_over_|kib_per_run")
"""Figures measured as ratios within one run: the ones whose regression fails the check. A
figure `_vs_goal` is one measurement over a fixed goal, as absolute as the measurement."""
SHARE_FLOOR = 0.05
"""Shares are compared from 5 % up: a share near zero is the difference of two measurements,
whose noise (1.5 % one run, 2.5 % the next) says nothing about the code."""


@dataclass(frozen=True)
class Comparison:
    """One figure in both runs and how much worse the new one is (1.0 = the same)."""

    key: str
    old: float
    new: float
    direction: Direction
    worse_by: float

    @property
    def worse(self) -> bool:
        """True when the new figure is more than TOLERANCE worse than the old one."""
        return self.worse_by > 1.0 + TOLERANCE

    @property
    def regressed(self) -> bool:
        """True when a ratio figure is more than TOLERANCE worse: what fails the check."""
        return self.worse and bool(RATIO_FIGURE.search(self.key))


def direction(key: str) -> Direction | None:
    """Whether lower or higher is better for the figure named `key`; None when unknown."""
    if NOT_COMPARED.search(key):
        return None
    if HIGHER_IS_BETTER.search(key):
        return "higher"
    if LOWER_IS_BETTER.search(key):
        return "lower"
    return None


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Comparison]:
    """Every numeric figure present in both runs with a known direction, in the new run's order."""
    out = []
    for key, value in new.items():
        before = old.get(key)
        way = direction(key)
        if way is None or not _number(value) or not _number(before):
            continue
        old_v, new_v = float(before), float(value)
        if old_v <= 0 or new_v <= 0:
            continue
        if "share" in key:
            old_v, new_v = max(old_v, SHARE_FLOOR), max(new_v, SHARE_FLOOR)
        worse = new_v / old_v if way == "lower" else old_v / new_v
        out.append(Comparison(key, old_v, new_v, way, worse))
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def report(rows: list[Comparison]) -> str:
    """A plain table of the comparison, regressions marked."""
    lines = [f"{'figure':<48} {'stored':>12} {'now':>12} {'worse by':>9}"]
    for r in rows:
        mark = "  REGRESSED" if r.regressed else "  worse (absolute)" if r.worse else ""
        lines.append(f"{r.key:<48} {r.old:>12.4g} {r.new:>12.4g} {r.worse_by:>8.2f}×{mark}")
    return "\n".join(lines)


def check_files(old_path: Path, new_path: Path) -> int:
    """Compare two result files; print the table; 1 when a figure regressed, else 0."""
    rows = compare(json.loads(old_path.read_text()), json.loads(new_path.read_text()))
    print(report(rows))
    bad = [r.key for r in rows if r.regressed]
    if bad:
        print(f"regressed by more than {TOLERANCE:.0%}: {', '.join(bad)}")
        return 1
    print(f"no figure regressed by more than {TOLERANCE:.0%} ({len(rows)} compared)")
    return 0


def main(argv: list[str]) -> int:
    """`python -m bench.regress OLD.json NEW.json`."""
    if len(argv) != 2:
        print("usage: python -m bench.regress OLD.json NEW.json", file=sys.stderr)
        return 2
    return check_files(Path(argv[0]), Path(argv[1]))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
