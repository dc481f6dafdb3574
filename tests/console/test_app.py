"""The console app in-process: pages, JSON, proposals with a CSRF token, personas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from starlette.testclient import TestClient

from console.app import create_app
from tests.console.world import World, build_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return anyio.run(build_world, tmp_path)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.settings, charts=False)) as c:
        yield c


def test_the_runs_list_links_each_run_and_filters(client: TestClient, world: World) -> None:
    page = client.get("/").text
    assert f"href='/runs/{world.demo_run}'" in page and f"/runs/{world.digest_run}" in page
    only = client.get("/", params={"mission": "notes-digest"}).text
    assert world.digest_run in only and f"/runs/{world.demo_run}'" not in only
    none = client.get("/", params={"status": "running"}).text
    assert "No runs match." in none
    rows = client.get("/api/runs", params={"status": "finished"}).json()
    demo = next(r for r in rows if r["id"] == world.demo_run)
    assert demo["rounds"] == 4 and demo["tool_calls"] == 5 and demo["tokens"] == 900


def test_the_run_page_draws_the_timeline(client: TestClient, world: World) -> None:
    page = client.get(f"/runs/{world.demo_run}").text
    assert page.count("<section class='lane' data-round=") == 6  # 4 rounds + 2 sub-rounds
    assert "data-call-id='wipe-1' data-tool='space.wipe'" in page
    assert re.search(r"class='bar write deny'", page)
    assert "<details class='subrun' data-sub-of='task-1'" in page
    assert "Three notes read; the wipe was refused." in page
    api = client.get(f"/api/runs/{world.demo_run}").json()
    assert [r["number"] for r in api["rounds"]] == [1, 2, 3, 4]
    assert api["rounds"][0]["peak_parallel"] == 3


def test_unknown_runs_and_bad_transcripts_answer_clearly(client: TestClient, world: World) -> None:
    missing = client.get("/runs/nope")
    assert missing.status_code == 404 and "no run nope" in missing.text
    assert client.get("/api/runs/nope").status_code == 404
    bad = world.settings.runs_dir / "x" / "broken.jsonl"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"type": "header", "schema_version": 1}\n{"type": "response"}\n')
    broken = client.get("/runs/broken")
    assert broken.status_code == 422 and "broken.jsonl:2" in broken.text


def _csrf(page: str) -> str:
    found = re.search(r"name='csrf' value='([^']+)'", page)
    assert found is not None
    return found.group(1)


def _pending_ids(page: str) -> list[str]:
    return re.findall(r"data-action='approve' data-proposal='(P-[0-9a-f]+)'", page)


def test_proposals_are_approved_and_rejected_as_the_cli_does(client: TestClient) -> None:
    page = client.get("/proposals").text
    first, second = _pending_ids(page)
    token = _csrf(page)
    forged = client.post(f"/proposals/{first}/approve", data={"csrf": "wrong"})
    assert forged.status_code == 403 and _pending_ids(client.get("/proposals").text) == [
        first,
        second,
    ]
    done = client.post(f"/proposals/{first}/approve", data={"csrf": token})
    assert done.status_code == 200 and f"{first}: approved" in done.text
    again = client.post(f"/proposals/{first}/reject", data={"csrf": token})
    assert again.status_code == 409
    assert f"proposal {first} is approved, not pending: it cannot be rejected" in again.text
    rejected = client.post(f"/proposals/{second}/reject", data={"csrf": token})
    assert f"{second}: rejected" in rejected.text and _pending_ids(rejected.text) == []


def test_personas_link_each_session_to_its_run_page(client: TestClient, world: World) -> None:
    page = client.get("/personas").text
    assert f"href='/runs/{world.session}'" in page and "maya" in page
    run = client.get(f"/runs/{world.session}")
    assert run.status_code == 200 and "data-call-id='task-1'" in run.text


def test_the_persona_page_draws_its_charts(world: World) -> None:
    with TestClient(create_app(world.settings)) as c:
        page = c.get("/personas").text
    assert page.count("src='data:image/png;base64,") == 3


def test_the_console_command_binds_localhost_8377_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from mana_planner.cli import app

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda _app, **kw: calls.append(kw))
    assert CliRunner().invoke(app, ["console"]).exit_code == 0
    assert (
        CliRunner().invoke(app, ["console", "--host", "0.0.0.0", "--port", "9000"]).exit_code == 0
    )
    assert [(c["host"], c["port"]) for c in calls] == [("127.0.0.1", 8377), ("0.0.0.0", 9000)]
