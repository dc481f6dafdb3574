"""Compare two transcripts round by round: the first divergence, then a side-by-side summary.

Only what the model saw and did is compared: each round's request (messages added and
reminders), response (text and stop reason), tool calls (names and arguments), results and
usage. Ids, timestamps and latencies are not: two runs of one script differ in those alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.messages import Message, Usage
from planner.transcript import (
    RequestEvent,
    ResponseEvent,
    ToolCallEvent,
    ToolResultEvent,
    TranscriptEvent,
    read_transcript,
)

ASPECTS = ("request", "response", "tool call", "result", "usage")


@dataclass
class RoundRecord:
    """What one top-level round holds, in comparable form."""

    number: int
    request: list[Any] = field(default_factory=list)
    response: dict[str, Any] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    def aspect(self, name: str) -> Any:
        """The part of the round an aspect names."""
        values = {
            "request": self.request,
            "response": self.response,
            "tool call": self.calls,
            "result": self.results,
            "usage": self.usage.model_dump(mode="json"),
        }
        return values[name]

    def summary(self) -> str:
        """One line: calls (with a mark for errors) or the answer, and tokens."""
        failed = {r["name"] for r in self.results if not r["success"]}
        calls = ", ".join(c["name"] + ("!" if c["name"] in failed else "") for c in self.calls)
        what = calls or ("answer: " + " ".join(str(self.response.get("text", "")).split()))
        tokens = self.usage.input_tokens + self.usage.output_tokens
        return f"{what[:60]} ({tokens} tok)"


@dataclass(frozen=True)
class Divergence:
    """The first point where two runs differ."""

    round: int
    what: str
    a: str
    b: str


@dataclass(frozen=True)
class DiffReport:
    """The first divergence (None when the runs match) and the rounds of both runs."""

    a: list[RoundRecord]
    b: list[RoundRecord]
    divergence: Divergence | None

    @property
    def identical(self) -> bool:
        """True when no round differs."""
        return self.divergence is None


def _message(m: Message) -> dict[str, Any]:
    """A message without ids: independent runs name their tool calls differently."""
    data = m.model_dump(mode="json", exclude={"tool_call_id"})
    for call in data.get("tool_calls", ()):
        call.pop("id", None)
    return data


def rounds_of(events: list[TranscriptEvent]) -> list[RoundRecord]:
    """The top-level run's rounds, in order."""
    rounds: dict[int, RoundRecord] = {}
    for e in events:
        if e.path or not hasattr(e, "round"):
            continue
        rec = rounds.setdefault(e.round, RoundRecord(e.round))
        if isinstance(e, RequestEvent):
            rec.request = [*(_message(m) for m in e.messages_added), *e.reminders]
        elif isinstance(e, ResponseEvent):
            rec.response = {"text": e.text, "stop_reason": e.stop_reason}
            rec.usage = e.usage
        elif isinstance(e, ToolCallEvent):
            rec.calls.append({"name": e.name, "arguments": e.arguments})
        elif isinstance(e, ToolResultEvent):
            rec.results.append(
                {"name": e.name, "success": e.success, "message": e.message, "data": e.data}
            )
    return [rounds[n] for n in sorted(rounds)]


def _short(value: Any, width: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def first_divergence(a: list[RoundRecord], b: list[RoundRecord]) -> Divergence | None:
    """The first round and aspect (request, response, tool call, result, usage) that differ."""
    for ra, rb in zip(a, b, strict=False):
        for aspect in ASPECTS:
            va, vb = ra.aspect(aspect), rb.aspect(aspect)
            if va != vb:
                return Divergence(ra.number, aspect, _short(va), _short(vb))
    if len(a) != len(b):
        longer, side = (a, "A") if len(a) > len(b) else (b, "B")
        extra = longer[min(len(a), len(b))]
        return Divergence(extra.number, f"round only in {side}", "", extra.summary())
    return None


def diff_transcripts(a: str | Path, b: str | Path) -> DiffReport:
    """Read two transcripts and compare them (TranscriptError when one is unreadable)."""
    ra = rounds_of(list(read_transcript(a)))
    rb = rounds_of(list(read_transcript(b)))
    return DiffReport(ra, rb, first_divergence(ra, rb))


def side_by_side(report: DiffReport) -> list[tuple[str, str, str, str]]:
    """(round, A, B, mark) per round; the mark is `=` alike, `≠` differing, `<`/`>` one side."""
    by_a = {r.number: r for r in report.a}
    by_b = {r.number: r for r in report.b}
    out = []
    for n in sorted(by_a.keys() | by_b.keys()):
        ra, rb = by_a.get(n), by_b.get(n)
        if ra is None or rb is None:
            mark = ">" if ra is None else "<"
        else:
            mark = "=" if all(ra.aspect(x) == rb.aspect(x) for x in ASPECTS) else "≠"
        out.append((str(n), ra.summary() if ra else "-", rb.summary() if rb else "-", mark))
    return out
