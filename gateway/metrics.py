"""A tiny, instance-scoped Prometheus registry: labelled counters and histograms, text format."""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.errors import MetricLabelsError

LabelValues = tuple[str, ...]
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)


def _escape(value: str) -> str:
    """A label value as the text format wants it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


@dataclass
class Counter:
    """A monotonically increasing count per label set."""

    name: str
    help: str
    label_names: tuple[str, ...]
    _values: dict[LabelValues, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        """Add `amount` to the series of these label values."""
        if len(labels) != len(self.label_names):
            raise MetricLabelsError(self.name, self.label_names, labels)
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        """The current value of one series (0 when it was never incremented)."""
        return self._values.get(labels, 0.0)

    def render(self) -> list[str]:
        """The series in text exposition format."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            items = sorted(self._values.items())
        for labels, value in items:
            lines.append(f"{self.name}{_labels(self.label_names, labels)} {_number(value)}")
        return lines


@dataclass
class _Series:
    buckets: list[int]
    """Observations per bucket (not cumulative: render adds them up)."""
    total: float = 0.0
    count: int = 0


@dataclass
class Histogram:
    """Observations bucketed by upper bound, per label set."""

    name: str
    help: str
    label_names: tuple[str, ...]
    buckets: tuple[float, ...] = DEFAULT_BUCKETS
    _series: dict[LabelValues, _Series] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, value: float, *labels: str) -> None:
        """Record one observation."""
        if len(labels) != len(self.label_names):
            raise MetricLabelsError(self.name, self.label_names, labels)
        slot = bisect_left(self.buckets, value)  # the first bucket whose bound is >= value
        with self._lock:
            series = self._series.get(labels)
            if series is None:
                series = self._series[labels] = _Series([0] * len(self.buckets))
            if slot < len(series.buckets):
                series.buckets[slot] += 1
            series.total += value
            series.count += 1

    def count(self, *labels: str) -> int:
        """How many observations one series holds."""
        series = self._series.get(labels)
        return 0 if series is None else series.count

    def render(self) -> list[str]:
        """The series in text exposition format (cumulative buckets, sum, count)."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            items = sorted(
                (k, _Series(list(s.buckets), s.total, s.count)) for k, s in self._series.items()
            )
        names = self.label_names
        for labels, series in items:
            hits = 0
            for bound, in_bucket in zip(self.buckets, series.buckets, strict=True):
                hits += in_bucket
                le = f'le="{_number(bound)}"'
                lines.append(f"{self.name}_bucket{_labels(names, labels, le)} {hits}")
            inf = _labels(names, labels, 'le="+Inf"')
            lines.append(f"{self.name}_bucket{inf} {series.count}")
            lines.append(f"{self.name}_sum{_labels(names, labels)} {_number(series.total)}")
            lines.append(f"{self.name}_count{_labels(names, labels)} {series.count}")
        return lines


class GatewayMetrics:
    """The gateway's metrics; one instance per gateway, never global."""

    CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self) -> None:
        self.policy_decisions = Counter(
            "mana_gateway_policy_decisions_total",
            "Policy gate decisions by decision, reason and mode.",
            ("decision", "reason", "mode"),
        )
        self.tool_calls = Counter(
            "mana_gateway_tool_calls_total",
            "Tool calls by tool and outcome (ok, error, denied, invalid, unknown).",
            ("tool", "outcome"),
        )
        self.tool_latency = Histogram(
            "mana_gateway_tool_call_duration_seconds",
            "Time from a tools/call arriving to its result, by tool.",
            ("tool",),
        )
        self.auth_failures = Counter(
            "mana_gateway_auth_failures_total",
            "Bearer tokens refused, by reason.",
            ("reason",),
        )
        self.space_denials = Counter(
            "mana_gateway_space_denials_total",
            "Requests refused with 403 because the user is not a member of the space.",
            (),
        )
        self.oversized_requests = Counter(
            "mana_gateway_oversized_requests_total",
            "Requests refused with 413 because the body was over the size limit.",
            (),
        )

    def render(self) -> str:
        """Every metric in Prometheus text exposition format."""
        lines: list[str] = []
        for metric in (
            self.policy_decisions,
            self.tool_calls,
            self.tool_latency,
            self.auth_failures,
            self.space_denials,
            self.oversized_requests,
        ):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
