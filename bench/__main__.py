"""`make bench`: the engine's own figures, printed as a table and saved as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.workloads import engine_figures, gate_us_per_decision

RESULTS = Path(__file__).parent / "results" / "engine.json"


def main() -> None:
    """Run every engine workload and print the figures."""
    figures = engine_figures()
    figures["gate_us_per_decision"] = gate_us_per_decision()
    table = Table(title="mana-planner engine (median of batches, one process)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:,.3f}")
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
