"""`replay --live-tools` runs reads live and refuses writes unless `--allow-writes` (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mana_planner.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_live_replay_of_the_demo_refuses_its_writes_unless_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MANA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    cli = CliRunner()
    runs = tmp_path / "runs"
    assert cli.invoke(app, ["demo", "--runs-dir", str(runs)]).exit_code == 0
    (transcript,) = (runs / "weekly-review").glob("*.jsonl")
    refused = cli.invoke(app, ["replay", str(transcript), "--live-tools"])
    assert "not run live (replay with --allow-writes to run it)" in refused.output
    allowed = cli.invoke(app, ["replay", str(transcript), "--live-tools", "--allow-writes"])
    assert "not run live" not in allowed.output
