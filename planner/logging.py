"""Logging: structlog for our events, stdlib records (DBOS, uvicorn, ...) through the same renderer.

`configure_logging` is for applications (the CLI calls it): JSON lines when the stream is not a
TTY, readable lines on one, for our events and third-party lines alike. Until an application
configures structlog, the engine's loggers (`get_logger`) drop everything below warning, as a
library should. User content (message text, tool arguments and results) stays out of logs
unless the application asks for it with `log_content=True`.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
CONTENT_KEYS = frozenset(
    {
        "arguments",
        "content",
        "data",
        "detail",
        "input",
        "messages",
        "output",
        "prompt",
        "result",
        "text",
    }
)
"""Event keys that would carry user content; their values are replaced by their size."""
HANDLER_NAME = "mana-planner"
"""The name of the stdlib handler configure_logging installs (and replaces on a second call)."""


class _Stderr:
    """Writes to whatever sys.stderr is at the time of the write (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def redact_content(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the values of content keys by their size: logs hold no user data by default."""
    for key in CONTENT_KEYS.intersection(event_dict):
        event_dict[key] = f"<redacted: {len(str(event_dict[key]))} chars>"
    return event_dict


PARTIAL = "functools.partial("


def _end_of_call(text: str, start: int) -> int:
    """The index just past the parenthesis that closes the call opened before `start`."""
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def _callable_end(text: str, start: int) -> int:
    """The index just past a `<...>` callable repr (nested brackets included) at `start`."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"<": 1, ">": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    return len(text)


def redact_call_arguments(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Cut the arguments out of `functools.partial(...)` reprs in third-party messages.

    DBOS logs the step it cancels and aiosqlite each statement it runs as a partial: their
    arguments are model requests, tool inputs and SQL parameters.
    """
    text = event_dict.get("event")
    if not isinstance(text, str) or PARTIAL not in text:
        return event_dict
    out, pos = [], 0
    while (found := text.find(PARTIAL, pos)) >= 0:
        body = found + len(PARTIAL)
        end = _end_of_call(text, body)
        head = text[body : _callable_end(text, body)] if text.startswith("<", body) else "?"
        out += [text[pos:found], f"{PARTIAL}{head}, <arguments redacted>)"]
        pos = end
    event_dict["event"] = "".join([*out, text[pos:]])
    return event_dict


def allow_content(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Marks a configuration that opted in to user content in logs (passes events unchanged)."""
    return event_dict


def content_allowed() -> bool:
    """True only when the application configured logging with `log_content=True`."""
    return structlog.is_configured() and allow_content in structlog.get_config()["processors"]


def _render_for_stderr(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
    if sys.stderr.isatty():
        return structlog.dev.ConsoleRenderer(colors=False)(logger, method, event_dict)
    return json.dumps(dict(event_dict), default=str)


_QUIET = structlog.wrap_logger(
    structlog.PrintLogger(_Stderr()),  # type: ignore[arg-type]
    wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_content,
        _render_for_stderr,
    ],
)
"""What the engine logs through before an application configures structlog: warnings and up."""


class LibraryLogger:
    """A named engine logger: the application's structlog once configured, else `_QUIET`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        target = structlog.get_logger(self.name) if structlog.is_configured() else _QUIET
        return getattr(target, attr)


def get_logger(name: str) -> Any:
    """The engine's logger `name`: silent below warning until the application configures one."""
    return LibraryLogger(name)


def configure_logging(
    level: str = "info",
    json_lines: bool | None = None,
    stream: TextIO | None = None,
    *,
    log_content: bool = False,
) -> None:
    """Configure structlog and stdlib logging once per process (applications call this)."""
    out: TextIO = stream or _Stderr()  # type: ignore[assignment]
    as_json = not out.isatty() if json_lines is None else json_lines
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
    )
    numeric = LEVELS.get(level, logging.INFO)
    privacy: structlog.types.Processor = allow_content if log_content else redact_content
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        privacy,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(out, numeric, shared, renderer)


def _route_stdlib(
    out: TextIO,
    level: int,
    shared: list[structlog.types.Processor],
    renderer: structlog.types.Processor,
) -> None:
    """Third-party lines (DBOS, uvicorn, tenacity, httpx) through structlog's renderer."""
    handler = logging.StreamHandler(out)
    handler.name = HANDLER_NAME
    handler.setLevel(level)
    foreign: list[structlog.types.Processor] = [structlog.stdlib.add_logger_name, *shared]
    if allow_content not in shared:
        foreign.append(redact_call_arguments)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=foreign,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.name != HANDLER_NAME] + [handler]
    root.setLevel(level)
    # DBOS keeps its own console handler and does not propagate; it adds none when one is set.
    dbos = logging.getLogger("dbos")
    dbos.handlers = [handler]
    dbos.propagate = False


def debug_enabled() -> bool:
    """False when debug events are dropped: hot paths skip building them.

    A filtered debug call is a no-op, but reaching it through a module-level lazy proxy
    (cache_logger_on_first_use=False) assembles a bound logger first, about 5 µs a call.
    """
    if not structlog.is_configured():
        return False
    effective = getattr(structlog.get_config()["wrapper_class"], "get_effective_level", None)
    return effective is None or effective(None) <= logging.DEBUG
