"""The durable CLI glue: commands mounted on an app, and `run` through the app's environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from missions.app import AppSettings, open_app
from missions.cli_durable import register, run_app_mission
from missions.config import load_mission
from planner import StopReason
from planner.transcript import RunFinished, read_transcript

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    missions_app = typer.Typer()
    app.add_typer(missions_app, name="missions")
    register(app, missions_app)
    return app


def test_pause_of_an_unscheduled_mission_names_it(cli: typer.Typer, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    result = CliRunner().invoke(cli, ["missions", "pause", "nightly", "--db-url", db])
    assert result.exit_code == 1
    assert "'nightly' has no schedule" in result.output


def test_schedule_rejects_a_bad_file_before_connecting(cli: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'id = "bad"\ntitle = "t"\nobjective = "o"\nmodel = "openai:m"\n'
        'user_id = "u"\nevery = "90s"\n'
    )
    result = CliRunner().invoke(cli, ["schedule", str(tmp_path), "--db-url", "sqlite:///nowhere"])
    assert result.exit_code == 2
    assert "bad.toml: every:" in result.output


@pytest.mark.usefixtures("destroy_dbos")
async def test_run_goes_through_the_engine_and_lands_in_the_run_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # the demo mission's scripted steps are a relative path
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    settings = AppSettings(var_dir=tmp_path / "var", runs_dir=tmp_path / "runs")
    path = ROOT / "configs/missions/demo-briefing.toml"
    run = await run_app_mission(settings, load_mission(path), mission_path=path, run_id="demo-1")
    assert run.result.stop_reason is StopReason.ASSISTANT_STOP
    assert (tmp_path / "var" / "mana-planner.sqlite").exists()
    events = list(read_transcript(run.transcript_path))
    assert isinstance(events[-1], RunFinished)
    async with open_app(settings) as opened:
        record = await opened.runs.get_run("demo-1")
    assert record is not None
    assert record.stop_reason == "assistant_stop" and record.finished_at is not None
    assert record.transcript_path == str(run.transcript_path)


@pytest.mark.usefixtures("destroy_dbos")
def test_workers_lists_live_and_dead_workers_with_their_runs(
    cli: typer.Typer, tmp_path: Path
) -> None:
    from missions.durable import DBOSEngine
    from missions.heartbeat import BeatStore
    from planner import ToolRegistry

    db = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    engine = DBOSEngine.with_tools(ToolRegistry(), db_url=db, executor="worker-a")
    engine.launch()
    try:
        store = BeatStore(db)
        store.register("worker-gone", "mana-planner", "worker", now=1.0)
        store.track("run-7", "worker-gone", now=1.0)
        store.close()
        result = CliRunner().invoke(cli, ["workers", "--db-url", db])
    finally:
        engine.shutdown()
    assert result.exit_code == 0, result.output
    lines = {line.split("\t")[0]: line.split("\t") for line in result.output.splitlines()}
    assert lines["worker-a"][2] == "worker" and lines["worker-a"][5] == "alive"
    assert lines["worker-gone"][5] == "dead" and lines["worker-gone"][6] == "1"
