"""structlog setup: JSON lines off a TTY, readable console lines on one."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class _Stderr:
    """Writes to whatever sys.stderr is at the time of the write (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure_logging(
    level: str = "info", json_lines: bool | None = None, stream: TextIO | None = None
) -> None:
    """Configure structlog once per process (CLI entry points call this, libraries never do)."""
    out: TextIO = stream or _Stderr()  # type: ignore[assignment]
    as_json = not out.isatty() if json_lines is None else json_lines
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def debug_enabled() -> bool:
    """False when structlog's wrapper class drops debug events: hot paths skip building them.

    A filtered debug call is a no-op, but reaching it through a module-level lazy proxy
    (cache_logger_on_first_use=False) assembles a bound logger first, about 5 µs a call.
    """
    effective = getattr(structlog.get_config()["wrapper_class"], "get_effective_level", None)
    return effective is None or effective(None) <= logging.DEBUG
