"""How `diff` prints: the first divergence, then each round side by side (never wrapped)."""

from __future__ import annotations

from rich.table import Table

from missions import out_console
from planner import DiffReport, side_by_side


def diff_lines(report: DiffReport, a: str, b: str) -> list[str]:
    """Plain lines: the verdict, then one tab-separated line per round."""
    d = report.divergence
    lines = ["identical" if d is None else f"diverged at round {d.round}: {d.what}"]
    if d is not None and (d.a or d.b):
        lines += [f"  A: {d.a}", f"  B: {d.b}"]
    lines.append("\t".join(("round", f"A {a}", f"B {b}", "")))
    lines += ["\t".join(row) for row in side_by_side(report)]
    return lines


def print_diff(report: DiffReport, a: str, b: str) -> None:
    """A table on a terminal; plain unwrapped lines when piped."""
    console = out_console()
    if not console.is_terminal:
        for line in diff_lines(report, a, b):
            print(line)
        return
    d = report.divergence
    if d is None:
        console.print("[green]identical[/]")
    else:
        console.print(f"[yellow]diverged[/] at round {d.round}: {d.what}", highlight=False)
        if d.a or d.b:
            console.print(f"  A: {d.a}\n  B: {d.b}", markup=False, highlight=False)
    table = Table(title="Rounds")
    for column in ("round", f"A {a}", f"B {b}", ""):
        table.add_column(column)
    for row in side_by_side(report):
        table.add_row(*row)
    console.print(table)
