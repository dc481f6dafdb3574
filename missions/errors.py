"""Typed exceptions of the missions package; each message names the file, field or id at fault."""

from __future__ import annotations

from planner import PlannerError


class MissionError(PlannerError):
    """Base class of mission errors."""


class MissionConfigError(MissionError):
    """A mission file is malformed; the message names the file, the field and the problem."""


class ScheduleIntervalError(MissionConfigError):
    """An `every` interval no cron can express, or a worker option out of range."""


class DurableError(MissionError):
    """Base class of the durable engine's errors (system database, workers, runs)."""


class DatabaseUrlError(DurableError):
    """A system database URL that cannot be used; the message names the URL (no password)."""


class EngineStateError(DurableError):
    """The process's DBOS state does not allow this (a second engine, or none launched)."""


class RecordedRunError(DurableError):
    """A run's recorded request in the system database is unusable; names the run id."""


class UnknownScheduleError(DurableError):
    """Pause or resume named a mission that has no schedule in the system database."""


class RunInterruptedError(DurableError):
    """A run was stopped by SIGINT or SIGTERM; the message says how to resume it."""

    def __init__(self, run_id: str, resume_command: str) -> None:
        super().__init__(f"run {run_id} interrupted; resume it with: {resume_command}")
        self.run_id = run_id
        self.resume_command = resume_command
