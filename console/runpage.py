"""The run page: facts, answer, usage per round, and the timeline with its drill-down panel."""

from __future__ import annotations

import json
from typing import Any

from console.layout import asset, badge, esc, facts, json_script, ms_text, page, table, when
from console.timeline import CallView, ModelCall, RoundView, RunView

LABELS = 190
NEST_PX = 16
"""Each nesting level's left margin and borders, so nested bars share the time axis."""


def render_run_page(view: RunView, *, standalone: bool = False, title: str = "") -> str:
    """The whole run page; `standalone` drops the server navigation (for `view`)."""
    total = max(view.end_ms, *(c.end_ms for c in view.all_calls()), 1.0)
    body = (
        f"<h1>Run <span class='mono'>{esc(title or view.run_id)}</span></h1>"
        f"<div class='card'>{run_facts(view)}</div>"
        f"<h2>Answer</h2><div class='card answer' id='answer'>{esc(view.answer or '(no answer)')}"
        "</div>"
        f"<h2>Usage per round</h2><div class='card usage'>{usage_table(view)}</div>"
        "<h2>Timeline</h2>"
        "<div class='layout'><div class='timeline' id='timeline'>"
        f"{legend()}{axis(total)}{lanes(view, total)}</div>"
        "<aside class='card' id='detail'><p class='empty'>Click a bar to see the call's "
        "arguments and result.</p></aside></div>"
        f"{json_script('call-data', drill_data(view))}"
    )
    return page(f"Run {view.run_id}", body, nav=not standalone, script=asset("console.js"))


def run_facts(view: RunView) -> str:
    """The run's headline figures."""
    u = view.usage
    parent = view.header.get("parent_transcript")
    items = [
        ("stop reason", badge(view.stop_reason) + (f" {esc(view.error)}" if view.error else "")),
        ("mission", esc(view.agent or "-")),
        ("model", esc(view.model)),
        ("started (UTC)", esc(when(view.started_ts))),
        ("duration", esc(ms_text(view.duration_ms))),
        ("rounds", str(len(view.rounds))),
        ("tool calls", str(view.tool_calls)),
        ("tokens", f"{u.input_tokens} in / {u.output_tokens} out"),
        ("cost", f"${u.cost_usd:.4f}"),
    ]
    if parent:
        items.append(("forked from", f"{esc(parent)} @ round {esc(view.header.get('fork_round'))}"))
    return facts(items)


def usage_table(view: RunView) -> str:
    """One row per round: model time, tokens, cache, cost and calls."""
    rows = []
    for r in view.rounds:
        m = r.model
        u = m.usage if m else None
        rows.append(
            [
                str(r.number),
                esc(ms_text(m.end_ms - m.start_ms)) if m else "-",
                str(u.input_tokens) if u else "0",
                str(u.output_tokens) if u else "0",
                f"{u.cache_read_tokens} / {u.cache_write_tokens}" if u else "-",
                f"${u.cost_usd:.4f}" if u else "-",
                str(len(r.calls)),
                str(r.peak_parallel),
            ]
        )
    columns = ["round", "model", "in", "out", "cache r/w", "cost", "calls", "parallel"]
    return table(columns, rows, numeric=frozenset(range(1, 8)))


def legend() -> str:
    """What the bar colours mean."""
    items = (
        ("var(--model)", "model call"),
        ("var(--read)", "read"),
        ("var(--write)", "write"),
        ("var(--task)", "sub-agent"),
        ("var(--err)", "error / denied"),
        ("var(--warn)", "would-deny / retry"),
    )
    return (
        "<div class='legend'>"
        + "".join(f"<span><i style='background:{c}'></i>{esc(t)}</span>" for c, t in items)
        + "</div>"
    )


def _ticks(total: float) -> list[float]:
    step = 1.0
    for candidate in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000):
        step = float(candidate)
        if total / step <= 8:
            break
    else:
        step = total / 8
    return [i * step for i in range(int(total // step) + 1)]


def axis(total: float) -> str:
    """The time axis above the lanes."""
    ticks = "".join(
        f"<span class='tick' style='left:{_pct(t, total)}%'>{esc(ms_text(t))}</span>"
        for t in _ticks(total)
    )
    return f"<div class='axis'><div></div><div class='ticks'>{ticks}</div></div>"


def _pct(ms: float, total: float) -> str:
    return f"{max(0.0, min(100.0, 100.0 * ms / total)):.3f}"


def _bar(classes: str, label: str, start: float, end: float, total: float, attrs: str) -> str:
    width = max(0.0, 100.0 * (end - start) / total)
    return (
        f"<button type='button' class='bar {classes}' style='left:{_pct(start, total)}%;"
        f"width:{width:.3f}%' data-start-ms='{start:.3f}' data-end-ms='{end:.3f}' {attrs} "
        f"title='{esc(label)} ({end - start:.1f} ms)'>{esc(label)}</button>"
    )


def lanes(view: RunView, total: float) -> str:
    """One lane per round of `view`, sub-runs nested under their `task` call."""
    return "".join(lane(view, r, total) for r in view.rounds)


def _clip(text: str, width: int = 48) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"


def _depth(path: str) -> int:
    return path.count("/") + 1 if path else 0


def lane(view: RunView, r: RoundView, total: float) -> str:
    """One round: its head (figures, reminders, incidents), the model bar and the call bars."""
    chips = [
        f"<span class='chip reminder' title='{esc(t)}'>reminder: {esc(_clip(t))}</span>"
        for t in r.reminders
    ]
    chips += [
        f"<span class='chip retry' title='{esc(x.error)}'>retry {x.attempt}"
        f"{f' ({x.status})' if x.status else ''}</span>"
        for x in r.retries
    ]
    if r.compaction:
        chips.append(f"<span class='chip compaction'>compacted {r.compaction.removed}</span>")
    chips += [
        f"<span class='chip {c.mark}'>{esc(c.mark)}: {esc(c.tool)}</span>"
        for c in r.calls
        if c.mark
    ]
    u = r.model.usage if r.model else None
    meta = f"{u.input_tokens} in · {u.output_tokens} out · ${u.cost_usd:.4f}" if u else ""
    rows = [model_row(view, r.number, r.model, r, total)] if r.model else []
    rows += [call_row(view, c, total) for c in r.calls]
    path = esc(view.path)
    return (
        f"<section class='lane' data-round='{r.number}' data-path='{path}'>"
        f"<div class='lane-head'><b>Round {r.number}</b><span class='meta'>{meta}</span>"
        f"{''.join(chips)}</div>{''.join(rows)}</section>"
    )


def _row(label: str, track: str) -> str:
    return f"<div class='row'>{label}<div class='track'>{track}</div></div>"


def model_row(view: RunView, number: int, m: ModelCall, r: RoundView, total: float) -> str:
    """The model call's bar, with a tick per retry."""
    key = esc(f"{view.path}#model-{number}")
    label = ", ".join(m.tool_names) or ("answer" if m.answered else "no response")
    ticks = "".join(
        f"<span class='retry-tick' style='left:{_pct(x.at_ms, total)}%'></span>" for x in r.retries
    )
    bar = _bar("model", label, m.start_ms, m.end_ms, total, f"data-kind='model' data-key='{key}'")
    return _row("<div class='label'>model</div>", bar + ticks)


def call_row(view: RunView, c: CallView, total: float) -> str:
    """One tool call's bar; a `task` call carries its sub-run, expandable, below it."""
    hint = view.tool_hints.get(c.tool, "write")
    kind = (
        "task"
        if c.sub_run is not None or c.tool == "task"
        else ("read" if hint == "read" else "write")
    )
    classes = " ".join(
        x for x in (kind, c.mark, "failed" if c.success is False and not c.mark else "") if x
    )
    attrs = (
        f"data-kind='tool' data-call-id='{esc(c.call_id)}' data-tool='{esc(c.tool)}' "
        f"data-key='{esc(c.key)}' data-round='{c.round}'"
    )
    bar = _bar(classes, c.tool, c.start_ms, c.end_ms, total, attrs)
    label = f"{esc(c.tool)} <span class='cid'>{esc(c.call_id)}</span>"
    row = _row(f"<div class='label' title='{esc(c.call_id)}'>{label}</div>", bar)
    if c.sub_run is None:
        return row
    sub = c.sub_run
    summary = (
        f"sub-agent {esc(sub.agent or 'run')} · {len(sub.rounds)} rounds · {sub.tool_calls} "
        f"tool calls · {sub.usage.total_tokens} tokens · {esc(sub.stop_reason or 'running')}"
    )
    return (
        f"{row}<details class='subrun' data-sub-of='{esc(c.call_id)}' "
        f"style='--label:{LABELS - NEST_PX * _depth(sub.path)}px'><summary>{summary}</summary>"
        f"{lanes(sub, total)}</details>"
    )


def drill_data(view: RunView) -> dict[str, Any]:
    """What the detail panel shows for each bar, by the bar's data-key."""
    out: dict[str, Any] = {}
    for r in view.rounds:
        if r.model is not None:
            m = r.model
            out[f"{view.path}#model-{r.number}"] = {
                "title": f"model call, round {r.number}",
                "start_ms": m.start_ms,
                "end_ms": m.end_ms,
                "sections": [
                    ["response", m.text or "(no text)"],
                    ["tool calls", list(m.tool_names)],
                    ["usage", m.usage.model_dump(mode="json") | {"stop_reason": m.stop_reason}],
                    *(["reminder", t] for t in r.reminders),
                ],
            }
        for c in r.calls:
            out[c.key] = _call_detail(c)
            if c.sub_run is not None:
                out.update(drill_data(c.sub_run))
    return out


def _call_detail(c: CallView) -> dict[str, Any]:
    sections: list[list[Any]] = [["arguments", c.arguments]]
    if c.policy is not None:
        sections.append(["policy", {k: v for k, v in c.policy.__dict__.items() if v is not None}])
    outcome = "ok" if c.success else ("error" if c.success is False else "no result")
    sections.append([f"result ({outcome})", c.message])
    if c.data is not None:
        sections.append(["data", json.loads(json.dumps(c.data, default=str))])
    return {
        "title": f"{c.tool} · {c.call_id}",
        "start_ms": c.start_ms,
        "end_ms": c.end_ms,
        "sections": sections,
    }
