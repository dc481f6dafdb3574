"""The application's side of a durable run: its tools, spaces and run store, and its engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from missions.app import App, AppSettings, open_app
from missions.config import MissionConfig
from missions.durable import DBOSEngine
from missions.engine_types import EnvFactory, MissionEnv, RunStart
from missions.runner import MissionRun, mission_tools, record_of, remote_tools
from missions.store import RunRecord
from planner import ToolRegistry


@dataclass
class AppEnv:
    """The application's MissionEnv: its tools (plan-only aware), spaces and run store."""

    app: App

    @asynccontextmanager
    async def tools_for(
        self, cfg: MissionConfig, mission_path: Path | None
    ) -> AsyncIterator[ToolRegistry]:
        """The mission's tools (its MCP tool sources open meanwhile); plan-only proposes."""
        async with remote_tools(cfg, mission_path) as remote:
            yield mission_tools(cfg, self.app, mission_path, remote)

    async def space_for(self, cfg: MissionConfig) -> str:
        """The user's personal space."""
        return (await self.app.store.personal_space(cfg.user_id)).id

    async def run_started(self, start: RunStart) -> None:
        """A row for the run, not finished yet."""
        await self.app.runs.record_run(
            RunRecord(
                id=start.run_id,
                mission_id=start.mission_id,
                started_at=start.started_at,
                finished_at=None,
                stop_reason=None,
                rounds=0,
                tool_calls=0,
                input_tokens=0,
                output_tokens=0,
                cost_usd=0.0,
                model=start.model_id,
                transcript_path=str(start.transcript_path),
                error=None,
            )
        )

    async def run_interrupted(self, run_id: str) -> None:
        """The run's row says `interrupted` until it is resumed and finishes."""
        await self.app.runs.mark_interrupted(run_id)

    async def run_finished(self, run: MissionRun) -> None:
        """The run's final row."""
        await self.app.runs.record_run(record_of(run))


def app_env(settings: AppSettings) -> EnvFactory:
    """Opens the app (store, vault, run store, tools) for each run execution."""

    @asynccontextmanager
    async def open_env() -> AsyncIterator[MissionEnv]:
        async with open_app(settings) as opened:
            yield AppEnv(opened)

    return open_env


def app_engine(settings: AppSettings, db_url: str | None = None) -> DBOSEngine:
    """The engine the CLI uses: the app's environment, its database and folders."""
    return DBOSEngine(
        app_env(settings),
        db_url=db_url or settings.database_url,
        runs_dir=settings.runs_dir,
        var_dir=settings.var_dir,
    )
