"""`runs list` and `runs show` from the run store and the transcript: what the live summary
shows, after the fact, and tables whose run ids are never cut."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from missions.runner import MissionRun
from missions.store import RunRecord
from missions.summary import run_summary, subagent_lines
from planner import (
    ExecutedCall,
    PlannerError,
    PlannerLoopResult,
    PolicyDecision,
    PolicyEvent,
    PolicyMode,
    RunFinished,
    StopReason,
    ToolCall,
    ToolCallEvent,
    ToolResult,
    ToolResultEvent,
    TranscriptEvent,
    Usage,
    read_transcript,
)

LIST_COLUMNS = ("run", "mission", "started (UTC)", "stop", "rounds", "calls", "tokens", "cost")
DROP_ORDER = ("tokens", "started (UTC)", "cost", "calls", "rounds", "stop", "mission")
"""Which columns go first when a terminal is too narrow; `run` never goes."""


def out_console() -> Console:
    """stdout: rich on a terminal; when piped, printed lines are never wrapped at 80 columns."""
    probe = Console()
    return probe if probe.is_terminal else Console(soft_wrap=True)


def plain(out: Console, line: str) -> None:
    """One line as it is: no markup, no tab expansion, no wrapping."""
    out.file.write(line + "\n")


def when(ts: float | None) -> str:
    """A UTC time to the second, or `-`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def list_rows(records: Sequence[RunRecord]) -> list[tuple[str, ...]]:
    """One row per run, in LIST_COLUMNS order."""
    return [
        (
            r.id,
            r.mission_id,
            when(r.started_at),
            str(getattr(r, "status", None) or r.stop_reason or "running"),
            str(r.rounds),
            str(r.tool_calls),
            str(r.input_tokens + r.output_tokens),
            f"${r.cost_usd:.4f}",
        )
        for r in records
    ]


def fitting_columns(rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Indexes of the columns to show so the table fits `width`; the run id always stays."""
    widths = [
        max([len(LIST_COLUMNS[i]), *(len(row[i]) for row in rows)]) + 3
        for i in range(len(LIST_COLUMNS))
    ]
    keep = list(range(len(LIST_COLUMNS)))
    for name in DROP_ORDER:
        if sum(widths[i] for i in keep) + 1 <= width:
            break
        keep.remove(LIST_COLUMNS.index(name))
    return keep


def print_runs(records: Sequence[RunRecord], console: Console | None = None) -> None:
    """Runs as a table on a terminal, tab-separated lines when piped; ids are never cut."""
    out = console or out_console()
    rows = list_rows(records)
    if not out.is_terminal:
        for line in [LIST_COLUMNS, *rows]:
            plain(out, "\t".join(line))
        return
    keep = fitting_columns(rows, out.width)
    longest = max([len(LIST_COLUMNS[0]), *(len(r[0]) for r in rows)])
    table = Table(title="Mission runs")
    for i in keep:
        if i == 0:
            table.add_column(LIST_COLUMNS[i], no_wrap=True, min_width=longest)
        else:
            table.add_column(LIST_COLUMNS[i], overflow="ellipsis")
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    out.print(table)


def executed_calls(events: Sequence[TranscriptEvent]) -> list[ExecutedCall]:
    """The top-level run's calls with their results and policy decisions, in call order."""
    starts = [e for e in events if isinstance(e, ToolCallEvent) and not e.path]
    results = {e.call_id: e for e in events if isinstance(e, ToolResultEvent) and not e.path}
    decisions = {e.call_id: e for e in events if isinstance(e, PolicyEvent) and not e.path}
    out = []
    for start in starts:
        res = results.get(start.call_id)
        d = decisions.get(start.call_id)
        decision = None
        if d is not None:
            decision = PolicyDecision(
                allow=d.verdict != "deny",
                reason=d.reason,
                flagged=d.flagged,
                verdict=d.verdict,  # type: ignore[arg-type]
                mode=PolicyMode(d.mode),
            )
        result = (
            ToolResult(res.success, res.message, res.data)
            if res
            else ToolResult(False, "(no result recorded)")
        )
        call = ToolCall(id=start.call_id, name=start.name, arguments=start.arguments)
        duration = res.duration_ms if res else 0.0
        out.append(ExecutedCall(start.round, call, result, duration, decision))
    return out


def mission_run(record: RunRecord, path: Path) -> MissionRun:
    """A finished run rebuilt from its transcript, as the live summary saw it."""
    events = list(read_transcript(path))
    end = next((e for e in events if isinstance(e, RunFinished) and not e.path), None)
    calls = executed_calls(events)
    result = PlannerLoopResult(
        rounds=end.rounds if end else max((c.round for c in calls), default=0),
        executed_calls=calls,
        summary=end.summary if end else "",
        stop_reason=StopReason(end.stop_reason) if end else StopReason.CANCELLED,
        messages=[],
        usage=end.usage if end else Usage(),
        reminder_counts=dict(end.reminder_counts) if end else {},
        error=(end.error if end else "no run_finished event: the run did not finish"),
    )
    return MissionRun(
        record.id,
        record.mission_id,
        result,
        path,
        record.started_at,
        record.finished_at or record.started_at,
        record.model or "",
    )


def print_run(record: RunRecord, console: Console | None = None) -> None:
    """The run's summary from its transcript; the store's fields when the transcript is gone."""
    out = console or out_console()
    path = Path(record.transcript_path) if record.transcript_path else None
    try:
        if path is None:
            raise PlannerError("the run store names no transcript for this run")
        run = mission_run(record, path)
    except PlannerError as exc:
        for key, value in record.__dict__.items():
            shown = when(value) if key.endswith("_at") else str(value)
            plain(out, f"{key}\t{shown}")
        plain(out, f"transcript unreadable: {exc}")
        return
    print_summary(run, out)


def print_summary(run: MissionRun, console: Console | None = None) -> None:
    """The run's summary: the rich panel on a terminal, plain unwrapped lines when piped."""
    out = console or out_console()
    if out.is_terminal:
        out.print(run_summary(run))
        return
    for line in summary_lines(run):
        plain(out, line)


def summary_lines(run: MissionRun) -> list[str]:
    """The live summary as plain lines for a pipe: facts, tool calls, sub-agents, answer."""
    r, u = run.result, run.result.usage
    lines = [
        f"Mission {run.mission_id}",
        f"run\t{run.run_id}",
        f"model\t{run.model_id}",
        f"stop reason\t{r.stop_reason.value}" + (f" ({r.error})" if r.error else ""),
        f"rounds\t{r.rounds}",
        f"tool calls\t{len(r.executed_calls)}",
        f"usage\t{u.input_tokens} in / {u.output_tokens} out tokens, "
        f"cache {u.cache_read_tokens} read / {u.cache_write_tokens} write, ${u.cost_usd:.4f}",
        *(f"sub-agent\t{line}" for line in subagent_lines(r.executed_calls)),
        f"transcript\t{run.transcript_path}",
        "",
        "round\ttool\tok\tpolicy\tmessage",
    ]
    for e in r.executed_calls:
        verdict = e.decision.verdict if e.decision else "-"
        ok = "yes" if e.result.success else "no"
        message = " ".join(e.result.message.split())
        lines.append(f"{e.round}\t{e.call.name}\t{ok}\t{verdict}\t{message}")
    return [*lines, "", "answer:", r.summary or "(no answer)"]
