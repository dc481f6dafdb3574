"""The page shell every console page shares: head, inlined style, navigation, formatting."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

NAV = (("/", "Runs"), ("/proposals", "Proposals"), ("/personas", "Personas"))


@cache
def asset(name: str) -> str:
    """One of the console's static files (style, script), read from the package."""
    return (resources.files("console") / "static" / name).read_text(encoding="utf-8")


def esc(value: Any) -> str:
    """HTML-escape any value's text."""
    return html.escape(str(value), quote=True)


def page(title: str, body: str, *, nav: bool = True, script: str = "") -> str:
    """A whole HTML document; `nav=False` for a standalone file opened from disk."""
    links = "".join(f'<a href="{href}">{esc(text)}</a>' for href, text in NAV) if nav else ""
    tail = f"<script>{script}</script>" if script else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{asset('console.css')}</style></head><body>"
        f"<header class='top'><span class='brand'>mana-planner console</span>{links}</header>"
        f"<main>{body}</main>{tail}</body></html>"
    )


def json_script(element_id: str, value: Any) -> str:
    """Data for the page's script, safe inside a <script> element."""
    text = json.dumps(value, default=str).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def when(ts: float | None) -> str:
    """A UTC timestamp to the second, or `-`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def ms_text(ms: float) -> str:
    """A duration for people: ms below 10 s, seconds above."""
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def badge(stop_reason: str | None) -> str:
    """A coloured badge for a stop reason or status."""
    text = stop_reason or "running"
    ok = ("assistant_stop", "no_tool_calls", "finished", "approved")
    cls = "ok" if text in ok else ("run" if text in ("running", "pending") else "bad")
    return f'<span class="badge {cls}">{esc(text)}</span>'


def facts(items: list[tuple[str, str]]) -> str:
    """A grid of label/value pairs; values are already HTML."""
    cells = "".join(f"<div><span>{esc(k)}</span><b>{v}</b></div>" for k, v in items)
    return f"<div class='facts'>{cells}</div>"


def table(
    columns: list[str], rows: list[list[str]], *, numeric: frozenset[int] = frozenset()
) -> str:
    """A table whose cells are already HTML; `numeric` columns align right."""
    head = "".join(
        f"<th class='num'>{esc(c)}</th>" if i in numeric else f"<th>{esc(c)}</th>"
        for i, c in enumerate(columns)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{cell}</td>" if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table class='grid'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
