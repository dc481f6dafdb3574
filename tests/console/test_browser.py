"""The console in headless Chromium: the timeline's bars, their overlap, the sub-agent and the
drill-down on a recorded run; a proposal approved through the page; `view` opened from disk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from mana_planner.cli import app
from tests.console.browser import chromium_page, needs_chromium, serving
from tests.console.world import World, build_world

pytestmark = needs_chromium()
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "console.png"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return anyio.run(build_world, tmp_path)


def _span(page: Any, selector: str) -> tuple[float, float]:
    bar = page.locator(selector)
    return float(bar.get_attribute("data-start-ms")), float(bar.get_attribute("data-end-ms"))


def _box(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["x"], box["x"] + box["width"]


def _check_run_page(page: Any) -> None:
    """What every run page must show: lanes, overlapping reads, the denial, the drill-down."""
    assert page.locator("section.lane:not(details section)").count() == 4
    reads = [f"[data-call-id='read-{i}']" for i in range(3)]
    spans = [_span(page, s) for s in reads]
    assert max(s for s, _ in spans) < min(e for _, e in spans)  # all three run at once
    boxes = [_box(page, s) for s in reads]
    assert max(x for x, _ in boxes) < min(x2 for _, x2 in boxes)  # and they overlap on screen
    widths = [x2 - x for x, x2 in boxes]
    assert widths[0] < widths[1] < widths[2]  # 40, 90, 140 ms reads
    assert page.locator("section.lane[data-round='1'] .bar[data-kind='tool']").count() <= 10
    wipe = page.locator("[data-call-id='wipe-1']")
    assert "deny" in (wipe.get_attribute("class") or "")
    assert wipe.get_attribute("data-tool") == "space.wipe"
    inner = page.locator("[data-call-id='sub-read-1']")
    assert not inner.is_visible()
    page.click("details[data-sub-of='task-1'] > summary")
    assert inner.is_visible()
    task_x, task_x2 = _box(page, "[data-call-id='task-1']")
    in_x, in_x2 = _box(page, "[data-call-id='sub-read-1']")
    assert task_x - 1 <= in_x < in_x2 <= task_x2 + 1  # nested bars share the time axis
    page.click("[data-call-id='read-2']")
    detail = page.locator("#detail").inner_text()
    assert "read-2" in detail and '"note": "n2"' in detail and "contents of n2" in detail
    page.click("[data-call-id='wipe-1']")
    assert "not allowed" in page.locator("#detail").inner_text()


def test_the_run_page_in_a_browser(world: World, tmp_path: Path) -> None:
    with serving(world.settings) as url, chromium_page() as page:
        page.goto(f"{url}/")
        page.click(f"a[href='/runs/{world.demo_run}']")
        assert page.url.endswith(f"/runs/{world.demo_run}")
        _check_run_page(page)
        page.click("[data-call-id='read-2']")
        shot = tmp_path / "console.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("MANA_UPDATE_DOCS") == "1":
            shutil.copyfile(shot, DOCS_SHOT)
        page.goto(f"{url}/personas")
        page.click(f"a[href='/runs/{world.session}']")
        assert page.locator("[data-call-id='task-1']").count() == 1


def test_a_proposal_is_approved_through_the_page(world: World) -> None:
    with serving(world.settings) as url, chromium_page() as page:
        page.goto(f"{url}/proposals")
        buttons = page.locator("#pending button[data-action='approve']")
        assert buttons.count() == 2
        first = buttons.first.get_attribute("data-proposal")
        stale = page.context.new_page()
        stale.goto(f"{url}/proposals")
        buttons.first.click()
        page.wait_for_selector("#notice")
        assert page.locator("#notice").inner_text() == f"{first}: approved"
        assert page.locator("#pending button[data-action='approve']").count() == 1
        assert first in page.locator("#decided").inner_text()
        stale.click(f"button[data-action='reject'][data-proposal='{first}']")
        stale.wait_for_selector("#notice")
        assert "is approved, not pending" in stale.locator("#notice").inner_text()


def test_a_viewed_file_works_from_disk(world: World, tmp_path: Path) -> None:
    transcript = world.settings.runs_dir / "demo-review" / "run-demo.jsonl"
    out = tmp_path / "run.html"
    done = CliRunner().invoke(app, ["view", str(transcript), "-o", str(out)])
    assert done.exit_code == 0, done.output
    with chromium_page() as page:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        _check_run_page(page)
        assert all(u.startswith(("file:", "data:")) for u in requests), requests
