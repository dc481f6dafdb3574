"""The persona report: figures per persona from the store, a table, and an HTML page with charts.

The charts are drawn with matplotlib (Agg, no display) and embedded as base64 PNG, so the
page is one self-contained file: ratings over time per module, the tool-call mix per persona,
and error, denial and flag rates per persona.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import mean
from typing import Any

from personas.store import CallRecord, FeedbackRecord, SessionRecord, SqlPersonaStore

CHART_IDS = ("ratings-over-time", "tool-mix", "error-rates")


@dataclass(frozen=True)
class PersonaFigures:
    """One persona's totals over the report's sessions."""

    persona_id: str
    sessions: int
    tool_calls: int
    errors: int
    denials: int
    flagged: int
    feedback_valid: int
    feedback_invalid: int
    ratings: dict[str, float]
    """Mean rating per module over valid feedback."""
    last_session: float | None

    @property
    def mean_rating(self) -> float | None:
        """The mean of the module means, or None without ratings."""
        return mean(self.ratings.values()) if self.ratings else None

    @property
    def error_rate(self) -> float:
        """Errors per tool call."""
        return self.errors / self.tool_calls if self.tool_calls else 0.0

    @property
    def denial_rate(self) -> float:
        """Denials per tool call."""
        return self.denials / self.tool_calls if self.tool_calls else 0.0

    @property
    def flag_rate(self) -> float:
        """Flagged calls per tool call."""
        return self.flagged / self.tool_calls if self.tool_calls else 0.0


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, read from the store once."""

    sessions: list[SessionRecord]
    calls: list[CallRecord]
    feedback: list[FeedbackRecord]
    since: float | None = None
    generated_at: float = field(default_factory=lambda: datetime.now(UTC).timestamp())

    def figures(self) -> list[PersonaFigures]:
        """Totals per persona, by persona id (computed from the calls, not the cached counts)."""
        calls_by: dict[str, list[CallRecord]] = defaultdict(list)
        for c in self.calls:
            calls_by[c.persona_id].append(c)
        fb_by: dict[str, list[FeedbackRecord]] = defaultdict(list)
        for f in self.feedback:
            fb_by[f.persona_id].append(f)
        sessions_by: dict[str, list[SessionRecord]] = defaultdict(list)
        for s in self.sessions:
            sessions_by[s.persona_id].append(s)
        out = []
        for pid in sorted(sessions_by):
            calls = calls_by[pid]
            outcomes = Counter(c.outcome for c in calls)
            valid = [f for f in fb_by[pid] if f.valid]
            per_module: dict[str, list[int]] = defaultdict(list)
            for f in valid:
                for module, score in f.ratings.items():
                    per_module[module].append(score)
            out.append(
                PersonaFigures(
                    persona_id=pid,
                    sessions=len(sessions_by[pid]),
                    tool_calls=len(calls),
                    errors=outcomes["error"],
                    denials=outcomes["denied"],
                    flagged=outcomes["flagged"],
                    feedback_valid=len(valid),
                    feedback_invalid=len(fb_by[pid]) - len(valid),
                    ratings={m: mean(v) for m, v in sorted(per_module.items())},
                    last_session=max(s.started_at for s in sessions_by[pid]),
                )
            )
        return out


async def load_report(store: SqlPersonaStore, since: float | None = None) -> ReportData:
    """The sessions since `since` (all when None) with their calls and feedback."""
    sessions = await store.sessions(since=since)
    ids = [s.id for s in sessions]
    return ReportData(sessions, await store.calls(ids), await store.feedback(ids), since)


def fmt_rating(value: float | None) -> str:
    """A rating to one decimal, or `-`."""
    return "-" if value is None else f"{value:.1f}"


def table_rows(data: ReportData) -> tuple[list[str], list[list[str]]]:
    """The terminal table: one row per persona."""
    columns = [
        "persona",
        "sessions",
        "tool calls",
        "errors",
        "denials",
        "flagged",
        "mean rating",
        "ratings by module",
        "invalid feedback",
    ]
    rows = [
        [
            f.persona_id,
            str(f.sessions),
            str(f.tool_calls),
            str(f.errors),
            str(f.denials),
            str(f.flagged),
            fmt_rating(f.mean_rating),
            " ".join(f"{m}={v:.1f}" for m, v in f.ratings.items()) or "-",
            str(f.feedback_invalid),
        ]
        for f in data.figures()
    ]
    return columns, rows


# --- charts --------------------------------------------------------------------------------


def _figure(width: float = 8.0, height: float = 3.6) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return fig, ax


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def ratings_chart(data: ReportData) -> str:
    """Mean rating per module per day, one line per module."""
    points: dict[str, dict[datetime, list[int]]] = defaultdict(lambda: defaultdict(list))
    for f in data.feedback:
        if not f.valid:
            continue
        day = datetime.fromtimestamp(f.created_at, UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        for module, score in f.ratings.items():
            points[module][day].append(score)
    fig, ax = _figure()
    if not points:
        _empty(ax, "no valid ratings yet")
    all_days = sorted({d for by_day in points.values() for d in by_day})
    x_of = {d: i for i, d in enumerate(all_days)}
    for module in sorted(points):
        days = sorted(points[module])
        ax.plot(
            [x_of[d] for d in days],
            [mean(points[module][d]) for d in days],
            marker="o",
            linewidth=2,
            label=module,
        )
    if points:
        step = max(1, len(all_days) // 10)
        ticks = list(range(0, len(all_days), step))
        ax.set_xticks(ticks, [all_days[i].strftime("%Y-%m-%d") for i in ticks])
        ax.set_xlim(-0.3, len(all_days) - 0.7)
        ax.set_ylim(0.5, 5.5)
        ax.set_ylabel("mean rating (1-5)")
        ax.legend(loc="lower left", ncols=min(6, len(points)), fontsize=8)
        ax.grid(alpha=0.3)
    ax.set_title("Ratings over time per module")
    return _png(fig)


def tool_mix_chart(data: ReportData) -> str:
    """Tool calls per persona, stacked by module."""
    personas = sorted({c.persona_id for c in data.calls})
    modules = sorted({c.module for c in data.calls})
    counts = Counter((c.persona_id, c.module) for c in data.calls)
    fig, ax = _figure(height=max(3.0, 0.45 * len(personas) + 1.4))
    if not personas:
        _empty(ax, "no tool calls yet")
    left = [0] * len(personas)
    for module in modules:
        widths = [counts[(p, module)] for p in personas]
        ax.barh(personas, widths, left=left, label=module)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    if personas:
        ax.set_xlabel("tool calls")
        ax.invert_yaxis()
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title("Tool-call mix per persona")
    return _png(fig)


def error_rates_chart(figures: Sequence[PersonaFigures]) -> str:
    """Error, denial and flag rates per persona, grouped bars."""
    fig, ax = _figure(height=max(3.0, 0.5 * len(figures) + 1.4))
    if not figures:
        _empty(ax, "no sessions yet")
    names = [f.persona_id for f in figures]
    height = 0.27
    series = (
        ("errors", [f.error_rate for f in figures], "#d62728"),
        ("denials", [f.denial_rate for f in figures], "#ff7f0e"),
        ("flagged", [f.flag_rate for f in figures], "#9467bd"),
    )
    for k, (label, values, color) in enumerate(series):
        ax.barh(
            [i + (k - 1) * height for i in range(len(names))],
            [100 * v for v in values],
            height=height,
            label=label,
            color=color,
        )
    if figures:
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("% of tool calls")
        ax.invert_yaxis()
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title("Error and denial rates per persona")
    return _png(fig)


# --- HTML ----------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
h1{margin-bottom:.2rem} .meta{color:#666;margin-top:0}
table{border-collapse:collapse;margin:1rem 0;font-size:.92rem}
th,td{border:1px solid #ddd;padding:.35rem .6rem;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
figure{margin:1.5rem 0} figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9rem}
ul.fb{font-size:.9rem} .invalid{color:#b00}
"""


_LOADED_SCRIPT = (
    "window.addEventListener('load',function(){var n=0;"
    "document.querySelectorAll('img.chart').forEach(function(i){"
    "if(i.complete&&i.naturalWidth>0){n++;i.dataset.loaded='yes';}});"
    "document.body.dataset.chartsLoaded=String(n);});"
)
"""Marks each chart the browser decoded, so a headless browser's DOM dump shows it."""


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _chart(chart_id: str, title: str, png: str) -> str:
    return (
        f'<figure id="{chart_id}"><img class="chart" data-chart="{chart_id}" '
        f'alt="{html.escape(title)}" src="data:image/png;base64,{png}">'
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
    )


def render_html(data: ReportData) -> str:
    """The self-contained report page: the table, three charts and the latest feedback."""
    figures = data.figures()
    columns, rows = table_rows(data)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows
    )
    since = f"since {_when(data.since)}" if data.since else "all sessions"
    charts = "".join(
        [
            _chart(CHART_IDS[0], "Ratings over time per module", ratings_chart(data)),
            _chart(CHART_IDS[1], "Tool-call mix per persona", tool_mix_chart(data)),
            _chart(CHART_IDS[2], "Error and denial rates per persona", error_rates_chart(figures)),
        ]
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Persona report</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Persona report</h1>"
        f"<p class='meta'>{len(data.sessions)} sessions, {len(data.calls)} tool calls, "
        f"{since}; generated {_when(data.generated_at)} UTC</p>"
        f"<table id='personas'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"{charts}"
        f"<h2>Latest feedback</h2>{_feedback_list(data)}"
        f"<script>{_LOADED_SCRIPT}</script>"
        "</body></html>"
    )


def _feedback_list(data: ReportData, limit: int = 30) -> str:
    items = []
    for f in sorted(data.feedback, key=lambda f: f.created_at, reverse=True)[:limit]:
        who = f"<b>{html.escape(f.persona_id)}</b> {_when(f.created_at)}"
        if not f.valid:
            items.append(
                f"<li class='invalid'>{who}: invalid feedback after {f.attempts} attempts "
                f"({html.escape(f.error or '')})</li>"
            )
            continue
        parts = [html.escape(f.comment)] if f.comment else []
        parts += [f"<i>friction:</i> {html.escape(x)}" for x in f.friction]
        parts += [f"<i>bug:</i> {html.escape(x)}" for x in f.bugs]
        items.append(f"<li>{who}: {' &middot; '.join(parts) or 'no comment'}</li>")
    return f"<ul class='fb'>{''.join(items)}</ul>" if items else "<p>No feedback yet.</p>"
