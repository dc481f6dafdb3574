"""A mission whose tools come from a real third-party stdio MCP server (mcp-server-time)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

from missions.app import App
from missions.config import MissionConfig, load_mission
from missions.runner import run_mission
from planner import StopReason
from planner.errors import PlannerError
from planner.models import ScriptedModel
from planner.transcript import ToolCallEvent, ToolResultEvent, read_transcript

MISSION = """
id = "time-check"
title = "What time is it"
objective = "Tell me the time in Lisbon and noon UTC in Tokyo."
model = "scripted:unused.json"
user_id = "ada"
tools = ["time.*"]

[[tool_sources]]
command = {command}
env = {{ TZ = "Asia/Tokyo", MANA_TEST_MARKER = "{marker}" }}
cwd = "."
prefix = "time"
"""


def servers_alive(marker: str) -> list[int]:
    """Pids of processes whose environment holds the marker (the servers this test started)."""
    alive = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes():
                alive.append(int(environ.parent.name))
        except OSError:
            continue
    return alive


def write_mission(tmp_path: Path, marker: str) -> Path:
    command = [sys.executable, "-m", "mcp_server_time"]
    text = MISSION.format(command=str(command).replace("'", '"'), marker=marker)
    path = tmp_path / "time-check.toml"
    path.write_text(text)
    return path


async def test_stdio_server_tools_run_in_a_mission_in_parallel(app: App, tmp_path: Path) -> None:
    marker = secrets.token_hex(8)
    path = write_mission(tmp_path, marker)
    model = ScriptedModel(
        [
            {
                "tool_calls": [
                    {
                        "name": "time.get_current_time",
                        "id": "c1",
                        "arguments": {"timezone": "Europe/Lisbon"},
                    },
                    {
                        "name": "time.convert_time",
                        "id": "c2",
                        "arguments": {
                            "source_timezone": "UTC",
                            "time": "12:00",
                            "target_timezone": "Asia/Tokyo",
                        },
                    },
                ]
            },
            {"text": "done"},
        ]
    )
    run = await run_mission(load_mission(path), app, model=model, mission_path=path)

    assert run.result.stop_reason is StopReason.ASSISTANT_STOP
    offered = {t.name: t for t in model.requests[0].tools}
    assert set(offered) == {"time.get_current_time", "time.convert_time"}
    # `env` reached the server: it names its local timezone (from TZ) in the schema.
    assert "Asia/Tokyo" in str(offered["time.get_current_time"].input_schema)
    now, converted = (c.result for c in run.result.executed_calls)
    assert now.success and "Europe/Lisbon" in str(now.data)
    assert converted.success and "21:00" in str(converted.data)
    # readOnlyHint tools run concurrently: both calls start before either ends.
    kinds = [
        e.type
        for e in read_transcript(run.transcript_path)
        if isinstance(e, ToolCallEvent | ToolResultEvent)
    ]
    assert kinds == ["tool_call", "tool_call", "tool_result", "tool_result"]
    assert servers_alive(marker) == []


async def test_a_command_that_cannot_start_names_the_command(app: App, tmp_path: Path) -> None:
    cfg = MissionConfig.model_validate(
        {
            "id": "broken",
            "title": "t",
            "objective": "o",
            "model": "scripted:unused.json",
            "user_id": "ada",
            "tool_sources": [{"command": ["/nonexistent/mcp-server"]}],
        }
    )
    with pytest.raises(PlannerError, match="cannot start the MCP server `/nonexistent/mcp-server`"):
        await run_mission(cfg, app, model=ScriptedModel([{"text": "x"}]))


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ({"url": "http://x/mcp", "command": ["a"]}, "not both"),
        ({}, "not both"),
        ({"command": ["a"], "token_env": "T"}, "`url` sources only"),
        ({"url": "http://x/mcp", "cwd": "."}, "`command` sources only"),
        ({"command": []}, "at least 1 item"),
    ],
)
def test_tool_source_transport_fields_are_checked(source: dict[str, object], problem: str) -> None:
    fields = {"id": "x", "title": "t", "objective": "o", "model": "m", "user_id": "u"}
    with pytest.raises(ValueError, match=problem):
        MissionConfig.model_validate({**fields, "tool_sources": [source]})
