"""`view` writes the run page as one self-contained file."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from typer.testing import CliRunner

from mana_planner.cli import app


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href")]


def test_view_writes_one_self_contained_page(demo_transcript: Path, tmp_path: Path) -> None:
    out = tmp_path / "page" / "run.html"
    done = CliRunner().invoke(app, ["view", str(demo_transcript), "-o", str(out)])
    assert done.exit_code == 0, done.output
    html = out.read_text()
    parser = _Links()
    parser.feed(html)
    assert all(u.startswith(("data:", "#")) for u in parser.urls), parser.urls
    assert "link" not in parser.tags  # style and script are inlined
    assert html.count("<section class='lane'") == 6
    assert "data-sub-of='task-1'" in html and 'id="call-data"' in html


def test_view_names_an_unreadable_transcript(tmp_path: Path) -> None:
    bad = tmp_path / "t.jsonl"
    bad.write_text('{"type": "run_started"}\n')
    done = CliRunner().invoke(app, ["view", str(bad), "-o", str(tmp_path / "x.html")])
    assert done.exit_code == 2 and "t.jsonl:1" in done.output
    assert not (tmp_path / "x.html").exists()
