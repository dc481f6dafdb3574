"""Fixtures for mission tests: an app on a temporary SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from dbos import DBOS
from typer.testing import CliRunner

from missions.app import App, AppSettings, open_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    settings = AppSettings(var_dir=tmp_path / "var", runs_dir=tmp_path / "runs")
    async with open_app(settings) as opened:
        yield opened


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner in the repository root, with its var folder under tmp_path."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("MANA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    return CliRunner()


@pytest.fixture
def destroy_dbos() -> Iterator[None]:
    """Tear down the process's DBOS after a test that launched it."""
    yield
    DBOS.destroy()
