"""Only workers run scheduled or queued work: a `run` process never fires a schedule, dequeues
a queued run or picks up another process's recovered run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import anyio
import pytest
from pydantic import BaseModel

from missions.config import MissionConfig
from missions.durable import DBOSEngine, run_durable
from missions.system_db import APP_NAME, client
from missions.workflows import SCHEDULED_WORKFLOW
from planner import ToolContext, ToolRegistry, ToolSpec
from tests.missions.waiting import wait_until


class Empty(BaseModel):
    pass


class Wait(BaseModel):
    seconds: float


def registry(seen: list[str]) -> ToolRegistry:
    async def record(ctx: ToolContext, inp: Empty) -> Empty:
        seen.append(ctx.run_id)
        return Empty()

    async def wait(ctx: ToolContext, inp: Wait) -> Empty:
        await asyncio.sleep(inp.seconds)
        return Empty()

    return ToolRegistry(
        [
            ToolSpec("slot.record", "Record.", Empty, Empty, record, policy_hint="write"),
            ToolSpec("slow.wait", "Wait.", Wait, Empty, wait, timeout_s=60),
        ]
    )


def scheduled_mission(folder: Path) -> Path:
    steps = folder / "tick.steps.json"
    steps.write_text(
        json.dumps([{"tool_calls": [{"name": "slot.record", "arguments": {}}]}, {"text": "ok"}])
    )
    missions = folder / "missions"
    missions.mkdir()
    (missions / "tick.toml").write_text(
        f'id = "tick"\ntitle = "t"\nobjective = "o"\nmodel = "scripted:{steps}"\n'
        'user_id = "u"\nspace_id = "s"\nevery = "2s"\ntools = ["slot.*"]\n'
    )
    return missions


def slow_mission(folder: Path, seconds: float) -> MissionConfig:
    steps = folder / "slow.steps.json"
    call = {"name": "slow.wait", "arguments": {"seconds": seconds}}
    steps.write_text(json.dumps([{"tool_calls": [call]}, {"text": "waited"}]))
    return MissionConfig.model_validate(
        {
            "id": "slow",
            "title": "Slow",
            "objective": "Wait.",
            "model": f"scripted:{steps}",
            "tools": ["slow.*"],
            "user_id": "u",
            "space_id": "s",
        }
    )


def scheduled_runs(db: str) -> set[str]:
    c = client(db, APP_NAME)
    try:
        return {w.workflow_id for w in c.list_workflows(name=SCHEDULED_WORKFLOW)}
    finally:
        c.destroy()


@pytest.mark.usefixtures("destroy_dbos")
async def test_a_stopped_scheduler_fires_nothing_inside_a_later_run(tmp_path: Path) -> None:
    seen: list[str] = []
    db = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    worker = DBOSEngine.with_tools(
        registry(seen), db_url=db, runs_dir=tmp_path / "runs", scheduler_poll_s=1.0
    )
    missions = scheduled_mission(tmp_path)

    def work_a_while() -> list[str]:
        worker.launch()
        try:
            ids = worker.schedule([missions], missed="skip", concurrency=2)
            assert wait_until(lambda: len(seen) >= 1, 15), seen
            return ids
        finally:
            worker.shutdown()

    assert await anyio.to_thread.run_sync(work_a_while) == ["tick"]
    fired = await anyio.to_thread.run_sync(scheduled_runs, db)
    before = list(seen)

    run = await run_durable(
        slow_mission(tmp_path, 10.0),
        registry(seen),
        run_id="slow-1",
        db_url=db,
        runs_dir=tmp_path / "runs",
    )
    assert run.result.summary == "waited"
    assert seen == before, "a scheduled run executed inside `run`"
    assert await anyio.to_thread.run_sync(scheduled_runs, db) == fired, (
        "`run` fired a schedule slot"
    )
