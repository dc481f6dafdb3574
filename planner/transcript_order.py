"""The order rules a transcript keeps (header first, one run_started and run_finished per run,
rounds never going back, each tool_result after its tool_call), checked while it is read."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from planner.errors import TranscriptError

if TYPE_CHECKING:
    from planner.transcript import Header, TranscriptEvent


class TranscriptOrder:
    """The order rules a transcript keeps, checked one event at a time, per run path."""

    def __init__(self, path: Path, transcript_format: str, schema_version: int) -> None:
        self.path = path
        self.format = transcript_format
        self.schema_version = schema_version
        self.header = False
        self.started: set[str] = set()
        self.finished: set[str] = set()
        self.rounds: dict[str, int] = {}
        self.open_calls: Counter[tuple[str, str]] = Counter()

    def check(self, event: TranscriptEvent, lineno: int) -> None:
        """Raise TranscriptError when `event` cannot come where it does."""
        where = f"{self.path}:{lineno}"
        if event.type == "header":
            self._header(event, where)
            return
        if not self.header:
            raise TranscriptError(f"{where}: the first line must be the transcript header")
        run = event.path
        if any(_within(run, done) for done in self.finished):
            raise TranscriptError(f"{where}: a {event.type} event after run_finished")
        if event.type == "run_started":
            if run in self.started:
                raise TranscriptError(f"{where}: a second run_started for this run")
            self.started.add(run)
            return
        if run not in self.started:
            raise TranscriptError(f"{where}: a {event.type} event before run_started")
        if event.type == "run_finished":
            self.finished.add(run)
            return
        self._round(event, run, where)
        self._call(event, run, where)

    def _header(self, event: Header, where: str) -> None:
        if self.header:
            raise TranscriptError(f"{where}: a second header")
        if event.format != self.format:
            raise TranscriptError(f"{where}: not a {self.format} transcript: {event.format}")
        if event.schema_version != self.schema_version:
            raise TranscriptError(
                f"{where}: schema version {event.schema_version} is not {self.schema_version}"
            )
        self.header = True

    def _round(self, event: TranscriptEvent, run: str, where: str) -> None:
        number = getattr(event, "round", None)
        if number is None:
            return
        last = self.rounds.get(run, 0)
        if number < last:
            raise TranscriptError(f"{where}: round {number} comes after round {last}")
        self.rounds[run] = number

    def _call(self, event: TranscriptEvent, run: str, where: str) -> None:
        if event.type == "tool_call":
            self.open_calls[(run, event.call_id)] += 1
        elif event.type == "tool_result":
            key = (run, event.call_id)
            if self.open_calls[key] <= 0:
                raise TranscriptError(f"{where}: tool_result for {key[1]!r} without its tool_call")
            self.open_calls[key] -= 1

    def finish(self) -> None:
        """At the end of the file: it must at least have had its header."""
        if not self.header:
            raise TranscriptError(f"{self.path}: empty transcript (no header)")


def _within(run: str, other: str) -> bool:
    """True when `run` is the run at path `other` or nested inside it."""
    return not other or run == other or run.startswith(f"{other}/")
