"""Where the console's data comes from: the run store, the persona store and transcript files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.errors import RunNotFoundError
from console.timeline import RunView, build_run
from missions import App, RunRecord
from personas import SessionRecord, SqlPersonaStore
from planner import read_transcript

FAILED_STOPS = frozenset({"model_error", "cancelled"})


@dataclass(frozen=True)
class RunRow:
    """One line of the runs list."""

    id: str
    mission_id: str
    status: str
    stop_reason: str | None
    started_at: float
    duration_ms: float | None
    rounds: int
    tool_calls: int
    tokens: int
    cost_usd: float
    transcript_path: str | None


def status_of(record: RunRecord) -> str:
    """`running`, `failed` or `finished`, or the store's own status when it keeps one."""
    kept: Any = getattr(record, "status", None)
    if isinstance(kept, str) and kept:
        return kept
    if record.stop_reason is None:
        return "running"
    return "failed" if record.stop_reason in FAILED_STOPS else "finished"


def run_row(record: RunRecord) -> RunRow:
    """A run store record as a row of the runs list."""
    finished = record.finished_at
    return RunRow(
        id=record.id,
        mission_id=record.mission_id,
        status=status_of(record),
        stop_reason=record.stop_reason,
        started_at=record.started_at,
        duration_ms=(finished - record.started_at) * 1000 if finished else None,
        rounds=record.rounds,
        tool_calls=record.tool_calls,
        tokens=record.input_tokens + record.output_tokens,
        cost_usd=record.cost_usd,
        transcript_path=record.transcript_path,
    )


def filter_rows(rows: list[RunRow], mission: str | None, status: str | None) -> list[RunRow]:
    """The rows of one mission and/or one status (empty filters keep everything)."""
    return [
        r
        for r in rows
        if (not mission or r.mission_id == mission) and (not status or r.status == status)
    ]


@dataclass
class ConsoleData:
    """The open stores of one console process."""

    app: App
    personas: SqlPersonaStore

    async def runs(self, limit: int = 500) -> list[RunRow]:
        """The most recent mission runs, newest first."""
        return [run_row(r) for r in await self.app.runs.list_runs(None, limit)]

    async def sessions(self) -> list[SessionRecord]:
        """Every persona session, oldest first."""
        return await self.personas.sessions()

    async def transcript_path(self, run_id: str) -> Path:
        """The transcript of a mission run, a persona session or a file under the runs folder."""
        record = await self.app.runs.get_run(run_id)
        if record is not None and record.transcript_path:
            return Path(record.transcript_path)
        for session in await self.personas.sessions():
            if session.id == run_id and session.transcript_path:
                return Path(session.transcript_path)
        runs_dir = self.app.settings.runs_dir
        found = sorted(runs_dir.rglob(f"{run_id}.jsonl")) if runs_dir.is_dir() else []
        if found:
            return found[0]
        raise RunNotFoundError(
            f"no run {run_id}: not in the run store, the persona store or {runs_dir}"
        )

    async def run_view(self, run_id: str) -> RunView:
        """One run's view, read from its transcript."""
        return load_view(await self.transcript_path(run_id))


def load_view(path: Path) -> RunView:
    """Read a transcript file into its run view (TranscriptError names file:line)."""
    return build_run(read_transcript(path))
