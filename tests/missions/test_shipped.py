"""The shipped configs work from any directory: demo, `run <id>`, offline proposals, prices."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mana_planner.cli import app
from missions.shipped import find_mission, shipped_mission
from planner import shipped_configs
from planner.models.pricing import default_prices

ROOT = Path(__file__).resolve().parents[2]
PIP_WHEEL = (sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation")


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI run from a folder that holds no configs/."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MANA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    return CliRunner()


def test_the_price_table_and_examples_are_found_without_a_checkout_cwd(
    elsewhere: CliRunner,
) -> None:
    assert (shipped_configs() / "models.toml").is_file()
    assert default_prices().lookup("claude-haiku-4-5") is not None
    assert find_mission(Path("notes-digest")) == shipped_mission("notes-digest")
    assert find_mission(Path("notes-digest.toml")) == shipped_mission("notes-digest")
    assert find_mission(Path("nope")) == Path("nope")


def test_demo_runs_from_another_directory(elsewhere: CliRunner, tmp_path: Path) -> None:
    result = elsewhere.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "identical (6 requests)" in " ".join(result.output.split())
    assert len(list((tmp_path / "runs" / "weekly-review").glob("*.jsonl"))) == 1


def test_notes_digest_runs_offline_and_its_proposals_can_be_approved(
    elsewhere: CliRunner,
) -> None:
    run = elsewhere.invoke(app, ["run", "notes-digest"])
    assert run.exit_code == 0, run.output
    listed = elsewhere.invoke(app, ["proposals", "list", "--status", "pending"])
    assert listed.output.count("todo.create") == 2, listed.output
    first = next(w for w in listed.output.split() if w.startswith("P-"))
    approved = elsewhere.invoke(app, ["proposals", "approve", first])
    assert approved.exit_code == 0, approved.output
    assert f"{first}: approved" in approved.output


def test_the_wheel_holds_the_configs_as_package_data(tmp_path: Path) -> None:
    subprocess.run(
        [*PIP_WHEEL, "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("mana_planner-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        f"mana_planner_configs/{p.relative_to(ROOT / 'configs')}"
        for p in (ROOT / "configs").rglob("*")
        if p.is_file() and p.suffix in (".toml", ".json")
    }
    assert "mana_planner_configs/models.toml" in shipped
    assert shipped <= names
    assert {"planner/testing/pytest_plugin.py", "missions/scaffold.py"} <= names
