"""The console's list pages: runs, proposals and the persona report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from console.layout import badge, esc, ms_text, page, table, when
from console.sources import RunRow
from missions import Proposal
from personas import (
    ReportData,
    error_rates_chart,
    fmt_rating,
    ratings_chart,
    table_rows,
    tool_mix_chart,
)


def _link(run_id: str) -> str:
    return f"<a class='mono' href='/runs/{quote(run_id, safe='')}'>{esc(run_id)}</a>"


def _select(name: str, options: Sequence[str], chosen: str | None) -> str:
    opts = "<option value=''>all</option>" + "".join(
        f"<option{' selected' if o == chosen else ''}>{esc(o)}</option>" for o in options
    )
    return f"<label>{esc(name)}<select name='{esc(name)}'>{opts}</select></label>"


def runs_page(
    rows: list[RunRow], all_rows: list[RunRow], mission: str | None, status: str | None
) -> str:
    """The runs list with its mission and status filters; each row links to its run."""
    missions = sorted({r.mission_id for r in all_rows})
    statuses = sorted({r.status for r in all_rows})
    form = (
        "<form class='filters card' method='get' action='/'>"
        f"{_select('mission', missions, mission)}{_select('status', statuses, status)}"
        "<button class='act' type='submit'>Filter</button></form>"
    )
    body = [
        [
            _link(r.id),
            esc(r.mission_id),
            f"{badge(r.status)} <span class='mono'>{esc(r.stop_reason or '')}</span>",
            esc(when(r.started_at)),
            esc(ms_text(r.duration_ms)) if r.duration_ms is not None else "-",
            str(r.rounds),
            str(r.tool_calls),
            str(r.tokens),
            f"${r.cost_usd:.4f}",
        ]
        for r in rows
    ]
    columns = ["run", "mission", "status", "started (UTC)", "duration"]
    columns += ["rounds", "tool calls", "tokens", "cost"]
    listing = table(columns, body, numeric=frozenset({4, 5, 6, 7, 8}))
    empty = "" if rows else "<p class='empty'>No runs match.</p>"
    html = f"<h1>Runs</h1>{form}<div class='card' id='runs'>{listing}{empty}</div>"
    return page("Runs", html)


def _decide_forms(p: Proposal, csrf: str) -> str:
    if p.status != "pending":
        return ""
    forms = []
    for action in ("approve", "reject"):
        forms.append(
            f"<form class='inline' method='post' action='/proposals/{esc(p.id)}/{action}'>"
            f"<input type='hidden' name='csrf' value='{esc(csrf)}'>"
            f"<button class='act {action}' type='submit' data-action='{action}' "
            f"data-proposal='{esc(p.id)}'>{action.title()}</button></form>"
        )
    return " ".join(forms)


def proposals_page(proposals: list[Proposal], csrf: str, notice: str = "", error: str = "") -> str:
    """Pending proposals with approve and reject buttons, then the decided ones."""
    columns = ["id", "status", "mission", "run", "tool", "arguments", "created (UTC)", "result"]

    def rows(items: list[Proposal], actions: bool) -> list[list[str]]:
        return [
            [
                f"<span class='mono'>{esc(p.id)}</span>",
                badge(p.status),
                esc(p.mission_id),
                _link(p.run_id),
                f"<span class='mono'>{esc(p.tool)}</span>",
                f"<code>{esc(json.dumps(p.arguments, ensure_ascii=False))}</code>",
                esc(when(p.created_at)),
                _decide_forms(p, csrf)
                if actions
                else f"<code>{esc(json.dumps(p.result, ensure_ascii=False))}</code>",
            ]
            for p in items
        ]

    pending = [p for p in proposals if p.status == "pending"]
    decided = [p for p in proposals if p.status != "pending"]
    flash = ""
    if error:
        flash = f"<div class='notice error' id='notice'>error: {esc(error)}</div>"
    elif notice:
        flash = f"<div class='notice ok' id='notice'>{esc(notice)}</div>"
    html = (
        f"<h1>Proposals</h1>{flash}"
        f"<h2>Pending ({len(pending)})</h2><div class='card' id='pending'>"
        f"{table([*columns[:-1], 'decide'], rows(pending, True))}</div>"
        f"<h2>Decided ({len(decided)})</h2><div class='card' id='decided'>"
        f"{table(columns, rows(decided, False)) if decided else '<p>None yet.</p>'}</div>"
    )
    return page("Proposals", html)


def personas_page(data: ReportData, *, charts: bool = True) -> str:
    """The persona report: figures per persona, the charts, and every session linked."""
    columns, rows = table_rows(data)
    numeric = frozenset({1, 2, 3, 4, 5, 6, 8})
    figures = table(columns, [[esc(v) for v in row] for row in rows], numeric=numeric)
    images = ""
    if charts:
        pngs = (
            ("Ratings over time per module", ratings_chart(data)),
            ("Tool-call mix per persona", tool_mix_chart(data)),
            ("Error and denial rates per persona", error_rates_chart(data.figures())),
        )
        images = "".join(
            f"<figure class='card'><img style='max-width:100%' alt='{esc(t)}' "
            f"src='data:image/png;base64,{png}'><figcaption>{esc(t)}</figcaption></figure>"
            for t, png in pngs
        )
    session_rows = [
        [
            _link(s.id),
            esc(s.persona_id),
            badge(s.stop_reason),
            esc(when(s.started_at)),
            str(s.rounds),
            str(s.tool_calls),
            f"{s.errors} / {s.denials} / {s.flagged}",
            f"${s.cost_usd:.4f}",
        ]
        for s in sorted(data.sessions, key=lambda s: s.started_at, reverse=True)
    ]
    session_cols = ["session", "persona", "stop", "started (UTC)", "rounds", "tool calls"]
    session_cols += ["errors / denials / flagged", "cost"]
    mean = [fmt_rating(f.mean_rating) for f in data.figures()]
    html = (
        f"<h1>Personas</h1><p>{len(data.sessions)} sessions, mean ratings {esc(', '.join(mean))}"
        f"</p><div class='card' id='personas'>{figures}</div>{images}"
        f"<h2>Sessions</h2><div class='card' id='sessions'>"
        f"{table(session_cols, session_rows, numeric=frozenset({4, 5, 7}))}</div>"
    )
    return page("Personas", html)
