"""The run view-model: a transcript's events folded into rounds, calls and nested sub-runs.

Pure functions of the events. Times are milliseconds from the top-level run's start: a model
call lasts from its request event to its response event, a tool call from its `tool_call`
event to its `tool_result` event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from pydantic import BaseModel

from planner import (
    CompactionEvent,
    EventBase,
    Header,
    PolicyEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RunFinished,
    RunStarted,
    ToolCallEvent,
    ToolResultEvent,
    Usage,
)

MARKED_VERDICTS = ("deny", "would-deny", "flagged")


@dataclass(frozen=True)
class PolicyMark:
    """The gate's decision on one call."""

    verdict: str
    mode: str
    reason: str | None = None
    flagged: str | None = None


@dataclass(frozen=True)
class CallView:
    """One tool call as a bar: when it ran, what it was given, what it returned."""

    call_id: str
    tool: str
    round: int
    start_ms: float
    end_ms: float
    arguments: dict[str, Any]
    success: bool | None
    message: str
    data: Any = None
    policy: PolicyMark | None = None
    sub_run: RunView | None = None
    path: str = ""

    @property
    def mark(self) -> str:
        """`deny`, `would-deny` or `flagged` when the gate said so, else empty."""
        verdict = self.policy.verdict if self.policy else ""
        return verdict if verdict in MARKED_VERDICTS else ""

    @property
    def key(self) -> str:
        """A key unique in the whole run: the run path and the call id."""
        return f"{self.path}/{self.call_id}" if self.path else self.call_id


@dataclass(frozen=True)
class ModelCall:
    """One model request and its response."""

    start_ms: float
    end_ms: float
    text: str
    tool_names: tuple[str, ...]
    usage: Usage
    stop_reason: str
    model: str
    answered: bool = True


@dataclass(frozen=True)
class RetryView:
    """A model call the adapter retried."""

    at_ms: float
    attempt: int
    error: str
    wait_s: float
    status: int | None


@dataclass(frozen=True)
class CompactionView:
    """History replaced by a summary before this round's request."""

    at_ms: float
    removed: int
    summary: str


@dataclass(frozen=True)
class RoundView:
    """One lane of the timeline: the model call, its tool calls, reminders and incidents."""

    number: int
    model: ModelCall | None
    calls: tuple[CallView, ...]
    reminders: tuple[str, ...] = ()
    retries: tuple[RetryView, ...] = ()
    compaction: CompactionView | None = None

    def spans(self) -> list[tuple[float, float]]:
        """(start, end) of the model call and of every tool call."""
        out = [(c.start_ms, c.end_ms) for c in self.calls]
        if self.model is not None:
            out.append((self.model.start_ms, self.model.end_ms))
        return out

    @property
    def start_ms(self) -> float:
        """When the round's first thing started."""
        return min((s for s, _ in self.spans()), default=0.0)

    @property
    def end_ms(self) -> float:
        """When the round's last thing ended."""
        return max((e for _, e in self.spans()), default=0.0)

    @property
    def peak_parallel(self) -> int:
        """The most tool calls of this round running at one moment."""
        return peak_overlap([(c.start_ms, c.end_ms) for c in self.calls])


@dataclass(frozen=True)
class RunView:
    """A whole run (or a sub-agent's run) ready to be drawn."""

    run_id: str
    path: str
    model: str
    system_prompt: str
    user_prompt: str
    settings: dict[str, Any]
    rounds: tuple[RoundView, ...]
    start_ms: float
    end_ms: float
    started_ts: float
    stop_reason: str | None
    answer: str
    error: str | None
    usage: Usage
    tool_calls: int
    header: dict[str, Any] = field(default_factory=dict)
    tool_hints: dict[str, str] = field(default_factory=dict)
    """Each offered tool's policy hint (read, write, destructive), for colouring its bars."""

    @property
    def duration_ms(self) -> float:
        """From the run's start to its end (or its last event)."""
        return max(0.0, self.end_ms - self.start_ms)

    @property
    def agent(self) -> str:
        """The sub-agent kind, or the mission id, or empty."""
        return str(self.settings.get("subagent") or self.settings.get("mission") or "")

    def all_calls(self) -> list[CallView]:
        """Every call of this run and of its sub-runs, depth first."""
        out: list[CallView] = []
        for rnd in self.rounds:
            for call in rnd.calls:
                out.append(call)
                if call.sub_run is not None:
                    out.extend(call.sub_run.all_calls())
        return out


def peak_overlap(spans: Sequence[tuple[float, float]]) -> int:
    """The largest number of [start, end) spans open at one instant."""
    points = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    peak = running = 0
    for _, delta in points:
        running += delta
        peak = max(peak, running)
    return peak


@dataclass
class _RoundAcc:
    """Collects one round's events while folding."""

    number: int
    request_ts: float | None = None
    response: ResponseEvent | None = None
    reminders: tuple[str, ...] = ()
    retries: list[RetryEvent] = field(default_factory=list)
    compaction: CompactionEvent | None = None
    call_order: list[str] = field(default_factory=list)
    call_starts: dict[str, ToolCallEvent] = field(default_factory=dict)
    results: dict[str, ToolResultEvent] = field(default_factory=dict)
    policy: dict[str, PolicyEvent] = field(default_factory=dict)


def build_run(events: Iterable[EventBase]) -> RunView:
    """Fold a transcript's events into the top-level run's view."""
    by_path: dict[str, list[EventBase]] = {}
    header: dict[str, Any] = {}
    for event in events:
        if isinstance(event, Header):
            header = event.model_dump(mode="json")
            continue
        by_path.setdefault(event.path, []).append(event)
    top = by_path.get("", [])
    started = next((e for e in top if isinstance(e, RunStarted)), None)
    origin = started.ts if started else (top[0].ts if top else 0.0)
    return _build_path("", by_path, origin, header)


def _build_path(
    path: str, by_path: dict[str, list[EventBase]], origin: float, header: dict[str, Any]
) -> RunView:
    events = by_path.get(path, [])
    rounds: dict[int, _RoundAcc] = {}
    started: RunStarted | None = None
    finished: RunFinished | None = None
    for event in events:
        if isinstance(event, RunStarted):
            started = event
        elif isinstance(event, RunFinished):
            finished = event
        else:
            _fold(event, rounds)
    last_ts = max((e.ts for e in events), default=origin)
    ms = _ms(origin)
    views = tuple(_round_view(rounds[n], path, by_path, origin, last_ts) for n in sorted(rounds))
    return RunView(
        run_id=started.run_id if started else (events[0].run_id if events else ""),
        path=path,
        model=started.model if started else "",
        system_prompt=started.system_prompt if started else "",
        user_prompt=started.user_prompt if started else "",
        settings=dict(started.settings) if started else {},
        rounds=views,
        start_ms=ms(started.ts if started else (events[0].ts if events else origin)),
        end_ms=ms(finished.ts if finished else last_ts),
        started_ts=started.ts if started else origin,
        stop_reason=finished.stop_reason if finished else None,
        answer=finished.summary if finished else "",
        error=finished.error if finished else None,
        usage=finished.usage if finished else _sum_usage(views),
        tool_calls=finished.tool_calls if finished else sum(len(r.calls) for r in views),
        header=header,
        tool_hints={t.name: t.policy_hint for t in started.tools} if started else {},
    )


def _fold(event: EventBase, rounds: dict[int, _RoundAcc]) -> None:
    """Put one round-scoped event into its round's accumulator."""
    number = getattr(event, "round", None)
    if number is None:
        return
    acc = rounds.setdefault(number, _RoundAcc(number))
    if isinstance(event, RequestEvent):
        acc.request_ts, acc.reminders = event.ts, tuple(event.reminders)
    elif isinstance(event, ResponseEvent):
        acc.response = event
    elif isinstance(event, RetryEvent):
        acc.retries.append(event)
    elif isinstance(event, CompactionEvent):
        acc.compaction = event
    elif isinstance(event, PolicyEvent):
        acc.policy[event.call_id] = event
    elif isinstance(event, ToolCallEvent):
        acc.call_order.append(event.call_id)
        acc.call_starts[event.call_id] = event
    elif isinstance(event, ToolResultEvent):
        acc.results[event.call_id] = event


def _round_view(
    acc: _RoundAcc,
    path: str,
    by_path: dict[str, list[EventBase]],
    origin: float,
    last_ts: float,
) -> RoundView:
    ms = _ms(origin)
    model = None
    if acc.request_ts is not None:
        r = acc.response
        model = ModelCall(
            start_ms=ms(acc.request_ts),
            end_ms=ms(r.ts if r else last_ts),
            text=r.text if r else "",
            tool_names=tuple(c.name for c in r.tool_calls) if r else (),
            usage=r.usage if r else Usage(),
            stop_reason=r.stop_reason if r else "no response",
            model=r.model if r else "",
            answered=r is not None,
        )
    calls = tuple(_call_view(acc, cid, path, by_path, origin) for cid in acc.call_order)
    return RoundView(
        number=acc.number,
        model=model,
        calls=calls,
        reminders=acc.reminders,
        retries=tuple(
            RetryView(ms(e.ts), e.attempt, e.error, e.wait_s, e.status) for e in acc.retries
        ),
        compaction=(
            CompactionView(ms(acc.compaction.ts), acc.compaction.removed, acc.compaction.summary)
            if acc.compaction
            else None
        ),
    )


def _call_view(
    acc: _RoundAcc, call_id: str, path: str, by_path: dict[str, list[EventBase]], origin: float
) -> CallView:
    ms = _ms(origin)
    start = acc.call_starts[call_id]
    result = acc.results.get(call_id)
    decision = acc.policy.get(call_id)
    child_path = f"{path}/{call_id}" if path else call_id
    sub = _build_path(child_path, by_path, origin, {}) if child_path in by_path else None
    return CallView(
        call_id=call_id,
        tool=start.name,
        round=acc.number,
        start_ms=ms(start.ts),
        end_ms=ms(result.ts) if result else ms(start.ts),
        arguments=dict(start.arguments),
        success=result.success if result else None,
        message=result.message if result else "(no result recorded)",
        data=result.data if result else None,
        policy=(
            PolicyMark(decision.verdict, decision.mode, decision.reason, decision.flagged)
            if decision
            else None
        ),
        sub_run=sub,
        path=path,
    )


def _ms(origin: float) -> Callable[[float], float]:
    """Seconds since the epoch to milliseconds since `origin`."""
    return lambda ts: round((ts - origin) * 1000.0, 3)


def _sum_usage(rounds: Sequence[RoundView]) -> Usage:
    total = Usage()
    for r in rounds:
        if r.model is not None:
            total = total + r.model.usage
    return total


def as_json(value: Any) -> Any:
    """A view (dataclasses, pydantic models, tuples) as plain JSON-ready data."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {f.name: as_json(getattr(value, f.name)) for f in fields(value)}
        for extra in ("mark", "key", "duration_ms", "peak_parallel", "start_ms", "end_ms"):
            prop = getattr(type(value), extra, None)
            if isinstance(prop, property):
                out[extra] = as_json(getattr(value, extra))
        return out
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    return value
