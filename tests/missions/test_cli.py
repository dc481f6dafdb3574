"""The command line, run in-process against a temporary var folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mana_planner.cli import app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MANA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    return CliRunner()


def test_demo_runs_the_mission_and_replays_identical(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["demo", "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "Mission weekly-review" in result.output
    assert "research (call call_task): 2 rounds" in result.output
    assert "identical (6 requests)" in result.output
    transcripts = list((tmp_path / "runs" / "weekly-review").glob("*.jsonl"))
    assert len(transcripts) == 1
    listed = cli.invoke(app, ["runs", "list"])
    assert listed.exit_code == 0 and "weekly-" in listed.output
    replayed = cli.invoke(app, ["replay", str(transcripts[0])])
    assert replayed.exit_code == 0 and "identical" in replayed.output


def test_replay_reports_divergence_and_unreadable_files(cli: CliRunner, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert cli.invoke(app, ["demo", "--runs-dir", str(runs)]).exit_code == 0
    (transcript,) = (runs / "weekly-review").glob("*.jsonl")
    lines = transcript.read_text().splitlines()
    started = json.loads(lines[1])
    started["settings"]["reminders"] = {"token_budget": {"budget": 1000}}
    lines[1] = json.dumps(started)
    transcript.write_text("\n".join(lines) + "\n")
    diverged = cli.invoke(app, ["replay", str(transcript)])
    assert diverged.exit_code == 1
    assert "diverged at round 2: reminders" in diverged.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    unreadable = cli.invoke(app, ["replay", str(bad)])
    assert unreadable.exit_code == 2
    assert "bad.jsonl:1" in unreadable.output


def test_validate_reports_each_bad_file(cli: CliRunner, tmp_path: Path) -> None:
    ok = cli.invoke(app, ["missions", "validate", "configs/missions"])
    assert ok.exit_code == 0 and ok.output.count("ok ") >= 3
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\n')
    res = cli.invoke(app, ["missions", "validate", str(bad)])
    assert res.exit_code == 1
    assert f"{bad}: title: Field required" in res.output


def test_proposals_cli_flow(cli: CliRunner, tmp_path: Path) -> None:
    steps = tmp_path / "steps.json"
    steps.write_text(
        json.dumps(
            [
                {"tool_calls": [{"name": "todo.create", "arguments": {"title": "From CLI"}}]},
                {"text": "proposed"},
            ]
        )
    )
    run = cli.invoke(
        app,
        [
            "run",
            "configs/missions/notes-digest.toml",
            "--model",
            f"scripted:{steps}",
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
    )
    assert run.exit_code == 0, run.output
    listed = cli.invoke(app, ["proposals", "list", "--status", "pending"])
    assert "todo.create" in listed.output
    proposal_id = next(w for w in listed.output.split() if w.startswith("P-"))
    shown = cli.invoke(app, ["proposals", "show", proposal_id])
    assert "From CLI" in shown.output
    approved = cli.invoke(app, ["proposals", "approve", proposal_id])
    assert approved.exit_code == 0, approved.output
    assert f"{proposal_id}: approved" in approved.output
    again = cli.invoke(app, ["proposals", "approve", proposal_id])
    assert again.exit_code == 2 and "not pending" in again.output
    assert os.environ["MANA_VAR_DIR"].startswith(str(tmp_path))
