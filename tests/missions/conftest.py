"""Fixtures for mission tests: an app on a temporary SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from missions.app import App, AppSettings, open_app


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    settings = AppSettings(var_dir=tmp_path / "var", runs_dir=tmp_path / "runs")
    async with open_app(settings) as opened:
        yield opened
