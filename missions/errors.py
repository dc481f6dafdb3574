"""Typed exceptions of the missions package."""

from __future__ import annotations

from planner.errors import PlannerError


class MissionError(PlannerError):
    """Base class of mission errors."""


class MissionConfigError(MissionError):
    """A mission file is malformed; the message names the file, the field and the problem."""
