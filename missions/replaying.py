"""Replay a mission transcript: rebuild its reminders (and tools, if live) from settings."""

from __future__ import annotations

from pathlib import Path

from missions.config import load_mission
from missions.tooling import available_tools
from planner.replay import RecordedRun, ReplayReport, replay_run
from reminders import build_channel


async def replay_file(path: Path, live_tools: bool = False) -> ReplayReport:
    """Replay a transcript with its recorded responses, and recorded or live tool results."""
    run = RecordedRun.load(path)
    settings = run.started.settings
    channel = build_channel(settings.get("reminders") or {}, f"{path}: reminders")
    tools = None
    if live_tools:
        mission_path = settings.get("mission_path")
        registry = available_tools()
        if mission_path:
            cfg = load_mission(mission_path)
            registry = registry.filter(lambda s: cfg.selects(s.name))
        tools = registry
    return await replay_run(run, tools=tools, reminder_channel=channel)
