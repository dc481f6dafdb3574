"""Typed exceptions of the personas package."""

from __future__ import annotations

from missions import MissionConfigError, MissionError


class PersonaError(MissionError):
    """Base class of persona errors."""


class PersonaConfigError(MissionConfigError, PersonaError):
    """A persona file is malformed; the message names the file, the field and the problem."""
