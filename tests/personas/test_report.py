"""The report: table figures match the stored sessions; the HTML holds the charts; a real
headless browser renders them (skipped without chromium)."""

from __future__ import annotations

import base64
import io
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from personas.check_report import check_page
from personas.report import CHART_IDS, load_report, render_html, table_rows
from personas.store import CallRecord, FeedbackRecord, Outcome, SessionRecord, SqlPersonaStore

DAY0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()
DAY = 86400.0
PLAN: list[tuple[str, float, list[tuple[str, Outcome]], dict[str, int] | None]] = [
    ("ana", DAY0, [("todo.create", "ok"), ("notes.create", "flagged")], {"todo": 4, "notes": 3}),
    ("ana", DAY0 + DAY, [("todo.list", "ok"), ("todo.delete", "denied")], {"todo": 2}),
    ("ana", DAY0 + 2 * DAY, [("habits.create", "error")], None),  # invalid feedback
    (
        "tom",
        DAY0,
        [("todo.create", "ok"), ("todo.complete", "error"), ("spaces.list", "ok")],
        {"todo": 5, "spaces": 4},
    ),
    ("tom", DAY0 + 3 * DAY, [], {}),
]


async def seed(store: SqlPersonaStore) -> None:
    for n, (persona, at, calls, ratings) in enumerate(PLAN):
        sid = f"s{n}"
        await store.record_session(
            SessionRecord(
                id=sid,
                persona_id=persona,
                user_id=f"persona-{persona}",
                space_id="personal",
                trigger="manual",
                started_at=at,
                finished_at=at + 60,
                stop_reason="assistant_stop",
                tool_calls=len(calls),
            )
        )
        await store.add_calls(
            [
                CallRecord(sid, persona, i, 1, f"c{i}", tool, tool.split(".")[0], outcome)
                for i, (tool, outcome) in enumerate(calls)
            ]
        )
        await store.add_feedback(
            FeedbackRecord(
                session_id=sid,
                persona_id=persona,
                created_at=at + 61,
                valid=ratings is not None,
                attempts=1 if ratings is not None else 2,
                ratings=ratings or {},
                friction=["slow list"] if persona == "ana" else [],
                raw=["..."],
                error=None if ratings is not None else "not JSON",
            )
        )


async def test_table_figures_match_the_stored_sessions(persona_store: SqlPersonaStore) -> None:
    await seed(persona_store)
    data = await load_report(persona_store)
    columns, rows = table_rows(data)
    table = {r[0]: dict(zip(columns, r, strict=True)) for r in rows}
    assert table["ana"]["sessions"] == "3"
    assert table["ana"]["tool calls"] == "5"
    assert (table["ana"]["errors"], table["ana"]["denials"], table["ana"]["flagged"]) == (
        "1",
        "1",
        "1",
    )
    assert table["ana"]["ratings by module"] == "notes=3.0 todo=3.0"
    assert table["ana"]["mean rating"] == "3.0"
    assert table["ana"]["invalid feedback"] == "1"
    assert table["tom"]["sessions"] == "2"
    assert table["tom"]["tool calls"] == "3"
    assert table["tom"]["errors"] == "1"
    assert table["tom"]["ratings by module"] == "spaces=4.0 todo=5.0"
    assert table["tom"]["mean rating"] == "4.5"

    since = await load_report(persona_store, since=DAY0 + DAY)
    _, rows = table_rows(since)
    assert [(r[0], r[1], r[2]) for r in rows] == [("ana", "2", "3"), ("tom", "1", "0")]


def charts_of(page: str) -> dict[str, bytes]:
    found = re.findall(r'data-chart="([^"]+)"[^>]*src="data:image/png;base64,([^"]+)"', page)
    return {chart: base64.b64decode(data) for chart, data in found}


async def test_the_html_holds_the_charts(persona_store: SqlPersonaStore) -> None:
    await seed(persona_store)
    page = render_html(await load_report(persona_store))
    charts = charts_of(page)
    assert list(charts) == list(CHART_IDS)
    for png in charts.values():
        with Image.open(io.BytesIO(png)) as img:
            assert img.format == "PNG"
            assert img.size[0] >= 600 and img.size[1] >= 250
    assert "http://" not in page and "https://" not in page, "self-contained"
    assert "<table id='personas'>" in page and "<td>ana</td>" in page
    assert "invalid feedback after 2 attempts" in page


async def test_an_empty_report_still_renders(persona_store: SqlPersonaStore) -> None:
    page = render_html(await load_report(persona_store))
    assert list(charts_of(page)) == list(CHART_IDS)
    assert "No feedback yet." in page


@pytest.mark.skipif(
    not any(shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")),
    reason="no headless chromium installed (apt-get install -y chromium)",
)
async def test_a_real_browser_shows_the_charts(
    persona_store: SqlPersonaStore, tmp_path: Path
) -> None:
    await seed(persona_store)
    page = tmp_path / "report.html"
    page.write_text(render_html(await load_report(persona_store)), encoding="utf-8")
    shot = tmp_path / "report.png"
    result = check_page(page, shot)
    assert result.charts_loaded == len(CHART_IDS)
    assert sorted(result.loaded_ids) == sorted(CHART_IDS)
    assert (result.width, result.height) == (1200, 2400)
    assert result.inked_fraction > 0.02 and result.colours >= 16
    assert result.ok


def test_dates_in_since_are_utc() -> None:
    from personas.runtime import parse_since

    assert parse_since("2026-11-23") == datetime(2026, 11, 23, tzinfo=UTC).timestamp()
    assert parse_since(None) is None
    plus_one = parse_since("2026-11-23T01:00:00+01:00")
    assert plus_one == (datetime(2026, 11, 23, tzinfo=UTC) + timedelta(0)).timestamp()
