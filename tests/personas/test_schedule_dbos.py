"""`personas schedule` on the missions' DBOS machinery: the tick workflow, once per slot,
sessions through a real loopback gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import anyio
from dbos import DBOS, SetWorkflowID

from gateway.serving import GatewayThread
from missions.app import AppSettings
from missions.durable import DBOSEngine
from personas.runtime import RuntimeOptions, open_runtime
from personas.schedule import (
    PERSONA_QUEUE,
    TICK_SCHEDULE,
    PersonaScheduler,
    install,
    persona_tick_workflow,
    set_scheduler,
)
from personas.session import PersonaRuntime
from personas.store import SqlPersonaStore
from planner import ToolRegistry

PERSONA = """
id = "{id}"
name = "{id}"
archetype = "tester"
system_prompt = "You test the app carefully and report what you find, every {cadence}."
cadence = "{cadence}"
goals = ["add a to-do"]
model = "scripted-persona:3"
[modules]
todo = 1
[tools]
min = 1
max = 2
"""


async def test_the_tick_workflow_runs_due_personas_once_per_slot(
    tmp_path: Path,
    var_dir: Path,
    gateway: GatewayThread,
    persona_store: SqlPersonaStore,
) -> None:
    configs = tmp_path / "personas"
    configs.mkdir()
    for pid, cadence in (("hourly-h", "hourly"), ("daily-d", "daily")):
        (configs / f"{pid}.toml").write_text(PERSONA.format(id=pid, cadence=cadence))
    settings = AppSettings(var_dir=var_dir, runs_dir=tmp_path / "runs")
    now = {"at": datetime.now(UTC)}

    @asynccontextmanager
    async def runtime() -> AsyncIterator[PersonaRuntime]:
        options = RuntimeOptions(settings, gateway_url=gateway.settings.base_url)
        async with open_runtime(options) as rt:
            yield rt

    scheduler = PersonaScheduler(runtime, configs, concurrency=2, clock=lambda: now["at"])
    engine = DBOSEngine.with_tools(
        ToolRegistry(), db_url=f"sqlite:///{tmp_path / 'dbos.sqlite'}", var_dir=var_dir
    )
    set_scheduler(scheduler)
    await anyio.to_thread.run_sync(engine.launch)
    try:
        cron = await anyio.to_thread.run_sync(partial(install, configs, every_s=600, concurrency=2))
        assert cron == "0 */10 * * * *"
        sched = await anyio.to_thread.run_sync(DBOS.get_schedule, TICK_SCHEDULE)
        assert sched is not None and sched["schedule"] == cron
        assert sched["queue_name"] == PERSONA_QUEUE

        slot = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        with SetWorkflowID("persona-tick-slot-1"):
            await persona_tick_workflow(slot, {"configs": str(configs), "concurrency": 2})
        first = await persona_store.sessions()
        assert sorted(s.persona_id for s in first) == ["daily-d", "hourly-h"]
        assert all(s.trigger == "schedule" and s.stop_reason == "assistant_stop" for s in first)
        assert all(s.tool_calls >= 1 for s in first)

        with SetWorkflowID("persona-tick-slot-1"):  # the same slot fired again: nothing reruns
            await persona_tick_workflow(slot, {"configs": str(configs)})
        assert len(await persona_store.sessions()) == 2

        now["at"] += timedelta(minutes=90)  # the next slots: only the hourly persona is due
        with SetWorkflowID("persona-tick-slot-2"):
            await persona_tick_workflow(slot, {"configs": str(configs)})
        later = await persona_store.sessions()
        assert sorted(s.persona_id for s in later) == ["daily-d", "hourly-h", "hourly-h"]
        steps = await DBOS.list_workflow_steps_async("persona-tick-slot-1")
        assert {s["function_name"] for s in steps} >= {
            "personas.due",
            "persona:hourly-h",
            "persona:daily-d",
        }
    finally:
        await anyio.to_thread.run_sync(engine.shutdown)
        set_scheduler(None)
