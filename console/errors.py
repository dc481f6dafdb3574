"""Typed exceptions of the console package."""

from __future__ import annotations

from planner import PlannerError


class ConsoleError(PlannerError):
    """Base class of console errors."""


class RunNotFoundError(ConsoleError):
    """No transcript is known for a run id; the message names the id and where it looked."""
