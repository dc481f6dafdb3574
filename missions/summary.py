"""Rich renderings of a run: its summary, and live progress while it runs."""

from __future__ import annotations

from collections import Counter

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from missions.runner import MissionRun
from planner import EventBase, ExecutedCall, ResponseEvent, ToolResultEvent


def short(text: str, width: int = 70) -> str:
    """Cut a text to one line of at most `width` characters."""
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def run_summary(run: MissionRun) -> Panel:
    """A panel with the run's stop reason, calls, policy decisions, reminders and usage."""
    r = run.result
    calls = Table(title="Tool calls", show_lines=False, expand=False)
    for col in ("round", "tool", "ok", "policy", "message"):
        calls.add_column(col)
    for e in r.executed_calls:
        verdict = e.decision.verdict if e.decision else "-"
        ok = Text("yes", style="green") if e.result.success else Text("no", style="red")
        calls.add_row(str(e.round), e.call.name, ok, verdict, short(e.result.message, 60))
    decisions = Counter(e.decision.verdict for e in r.executed_calls if e.decision)
    facts = Table.grid(padding=(0, 2))
    facts.add_row("run", run.run_id)
    facts.add_row("model", run.model_id)
    facts.add_row("stop reason", r.stop_reason.value + (f" ({r.error})" if r.error else ""))
    facts.add_row("rounds", str(r.rounds))
    facts.add_row("tool calls", str(len(r.executed_calls)))
    facts.add_row("policy", ", ".join(f"{k}: {v}" for k, v in sorted(decisions.items())) or "-")
    facts.add_row(
        "reminders", ", ".join(f"{k}: {v}" for k, v in sorted(r.reminder_counts.items())) or "-"
    )
    u = r.usage
    facts.add_row(
        "usage",
        f"{u.input_tokens} in / {u.output_tokens} out tokens, "
        f"cache {u.cache_read_tokens} read / {u.cache_write_tokens} write, ${u.cost_usd:.4f}",
    )
    for line in subagent_lines(r.executed_calls):
        facts.add_row("sub-agent", line)
    facts.add_row("transcript", str(run.transcript_path))
    answer = Panel(r.summary or "(no answer)", title="Answer", border_style="cyan")
    return Panel(Group(facts, calls, answer), title=f"Mission {run.mission_id}")


def subagent_lines(calls: list[ExecutedCall]) -> list[str]:
    """One line per `task` call: kind, rounds, calls, tokens and how it ended."""
    lines = []
    for e in calls:
        data = e.result.data
        if e.call.name != "task" or not isinstance(data, dict):
            continue
        usage = data.get("usage", {})
        tokens = usage.get("input_tokens", 0) + usage.get("output_tokens", 0)
        lines.append(
            f"{data.get('subagent_type')} (call {e.call.id}): {data.get('rounds')} rounds, "
            f"{data.get('tool_calls')} tool calls, {tokens} tokens, {data.get('stop_reason')}"
        )
    return lines


class Progress:
    """Prints one line per model response and tool result while a run goes on."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tokens = 0
        self.cost = 0.0
        self.calls = 0

    def __call__(self, event: EventBase) -> None:
        """Show one event."""
        if isinstance(event, ResponseEvent):
            self.tokens += event.usage.total_tokens
            self.cost += event.usage.cost_usd
            names = ", ".join(c.name for c in event.tool_calls) or "answer"
            self.console.print(
                f"[bold]round {event.round}[/] model -> {names}  "
                f"[dim]tokens {self.tokens}, ${self.cost:.4f}[/]"
            )
        elif isinstance(event, ToolResultEvent):
            self.calls += 1
            mark = "[green]ok[/]" if event.success else "[red]error[/]"
            self.console.print(
                f"  {mark} {event.name} [dim]({event.duration_ms:.1f} ms, call {self.calls})[/]"
            )
