"""`mana-planner init DIR` writes a project whose own test passes as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mana_planner.cli import app
from missions.config import load_mission
from missions.scaffold import ScaffoldError, project_names, write_project

ROOT = Path(__file__).resolve().parents[2]


def test_the_generated_project_passes_its_own_tests(tmp_path: Path) -> None:
    root = tmp_path / "Weather Memo"
    result = CliRunner().invoke(app, ["init", str(root)])
    assert result.exit_code == 0, result.output
    assert load_mission(root / "mission.toml").id == "weather-memo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(ROOT)  # the code under test, whichever checkout runs it
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_init_refuses_a_folder_that_holds_files(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="not an empty folder"):
        write_project(tmp_path)
    result = CliRunner().invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("folder", "slug", "prefix"),
    [("My Project", "my-project", "my_project"), ("2026 plans", "2026-plans", "p_2026_plans")],
)
def test_project_names_are_legal_ids(tmp_path: Path, folder: str, slug: str, prefix: str) -> None:
    assert project_names(tmp_path / folder) == {"slug": slug, "tool_prefix": prefix}
