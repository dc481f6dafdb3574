"""`mana-planner run --stream`: a run printed as it happens.

On a terminal the answer text appears as it arrives and each tool call as it is decided; piped,
every event is one plain line (`round 2 call todo.list {...}`), a round's text one line.
Sub-agents' events are prefixed with their run path; their text is not streamed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from planner import (
    EventFeed,
    RetryEvent,
    RoundEnd,
    RunEvent,
    TextDelta,
    ToolCallDecided,
    ToolResultEvent,
    parse_pairs,
)

ARGUMENTS_WIDTH = 120


def _one_line(text: str, width: int = 0) -> str:
    line = " ".join(text.split())
    return line if not width or len(line) <= width else line[: width - 1] + "…"


def _arguments(arguments: dict[str, Any]) -> str:
    return _one_line(json.dumps(arguments, ensure_ascii=False), ARGUMENTS_WIDTH)


class LivePrinter:
    """Prints run events to `out`: streamed text on a terminal, plain lines otherwise."""

    def __init__(self, out: IO[str], terminal: bool) -> None:
        self.out = out
        self.terminal = terminal
        self.console = Console(file=out, force_terminal=terminal, soft_wrap=True)
        self.mid_line = False
        self.texts: dict[tuple[str, int], list[str]] = {}

    def show(self, event: RunEvent) -> None:
        """Print one event (the EventFeed's emit)."""
        if isinstance(event, TextDelta):
            self._text(event)
        elif isinstance(event, ToolCallDecided):
            self._flush(event.path, event.round)
            where = self._where(event.path, event.round)
            self._line(f"{where}call {event.call.name} {_arguments(event.call.arguments)}", "cyan")
        elif isinstance(event, ToolResultEvent):
            status = "ok" if event.success else "error"
            where = self._where(event.path, event.round, "←")
            style = "green" if event.success else "red"
            self._line(
                f"{where}result {event.name} {status}: {_one_line(event.message, 100)}", style
            )
        elif isinstance(event, RetryEvent):
            where = self._where(event.path, event.round, "↻")
            self._line(f"{where}retry after attempt {event.attempt}: {event.error}", "yellow")
        elif isinstance(event, RoundEnd):
            self._flush(event.path, event.round)
            self._end_line()

    def _where(self, path: str, round_no: int, mark: str = "→") -> str:
        nested = f"[{path}] " if path else ""
        return f"{nested}  {mark} " if self.terminal else f"{nested}round {round_no} "

    def _text(self, delta: TextDelta) -> None:
        if delta.path:
            return
        if not self.terminal:
            self.texts.setdefault((delta.path, delta.round), []).append(delta.text)
            return
        self.out.write(delta.text)
        self.out.flush()
        self.mid_line = not delta.text.endswith("\n")

    def _flush(self, path: str, round_no: int) -> None:
        pieces = self.texts.pop((path, round_no), None)
        if pieces and "".join(pieces).strip():
            print(f"round {round_no} text: {_one_line(''.join(pieces))}", file=self.out)

    def _end_line(self) -> None:
        if self.mid_line:
            self.out.write("\n")
            self.mid_line = False

    def _line(self, text: str, style: str) -> None:
        if not self.terminal:
            print(text, file=self.out, flush=True)
            return
        self._end_line()
        self.console.print(Text(text, style=style))


def live_feed(out: IO[str], terminal: bool) -> EventFeed:
    """The feed a `--stream` run hands its transcript events and text deltas to."""
    return EventFeed(LivePrinter(out, terminal).show)


def streamed_options(pairs: Sequence[str]) -> list[str]:
    """`--model-option` pairs with `stream=true` added unless they set `stream` already."""
    given = parse_pairs(pairs)
    return list(pairs) if "stream" in given else [*pairs, "stream=true"]
