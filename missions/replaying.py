"""Replay a mission transcript: rebuild its reminders (and tools, if live) from settings."""

from __future__ import annotations

from pathlib import Path

from missions.app import AppSettings, open_app
from missions.config import load_mission
from missions.output import recorded_output_model
from missions.toolmodules import with_provided_tools
from planner import RecordedRun, ReplayReport, live_tools, replay_run
from reminders import build_channel


async def replay_file(
    path: Path,
    live: bool = False,
    settings: AppSettings | None = None,
    allow_writes: bool = False,
) -> ReplayReport:
    """Replay a transcript with its recorded responses, and recorded or live tool results.

    Live, read tools run against the store; write and destructive tools give an error result
    instead unless `allow_writes`, so a replay changes no data by surprise.
    """
    run = RecordedRun.load(path)
    recorded = run.started.settings
    channel = build_channel(recorded.get("reminders") or {}, f"{path}: reminders")
    output = recorded_output_model(run, path)
    if not live:
        return await replay_run(run, reminder_channel=channel, output_model=output)
    async with open_app(settings or AppSettings()) as app:
        tools = app.tools
        mission_path = recorded.get("mission_path")
        if mission_path:
            cfg = load_mission(mission_path)
            tools = with_provided_tools(tools, cfg, Path(mission_path))
            tools = tools.filter(lambda s: cfg.selects(s.name))
        tools = live_tools(tools, allow_writes)
        return await replay_run(run, tools=tools, reminder_channel=channel, output_model=output)
