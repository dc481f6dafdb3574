"""Durable steps: what wrapping a tool keeps, and the two ways a step runs (body-first on a
fresh execution, DBOS's check-first otherwise) recording the same thing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dbos import DBOS, SetWorkflowID
from pydantic import BaseModel, Field

from missions.durable_steps import STEP_TIMEOUT_MARGIN_S, StepHistory, StepRunner, durable_registry
from planner import ToolContext, ToolRegistry, ToolSpec


class In(BaseModel):
    key: int = Field(description="Which key.")


class Out(BaseModel):
    key: int


async def read(ctx: ToolContext, inp: In) -> Out:
    return Out(key=inp.key)


def test_a_durable_registry_keeps_each_tool_and_reuses_its_schema() -> None:
    spec = ToolSpec("kv.read", "Read a key.", In, Out, read, policy_hint="read", timeout_s=5.0)
    registry = ToolRegistry([spec])
    wrapped = durable_registry(registry, StepRunner())
    (durable,) = list(wrapped)
    assert (durable.name, durable.policy_hint, durable.input_model) == ("kv.read", "read", In)
    assert durable.handler is not spec.handler
    assert durable.timeout_s == 5.0 + STEP_TIMEOUT_MARGIN_S
    # the schema is the one the original computed, not built again for every run's wrapping
    assert durable.input_schema is spec.input_schema
    assert durable.schema == spec.schema
    assert wrapped.names == registry.names


class Boom(Exception):
    """A step body's failure."""


RAN: list[str] = []
APP = "test-step-runner"


async def _steps_of(runner: StepRunner) -> list[object]:
    async def ok() -> dict[str, int]:
        RAN.append("ok")
        return {"n": len(RAN)}

    async def fails() -> int:
        RAN.append("fails")
        raise Boom("no")

    out: list[object] = [await runner("first", ok)]
    try:
        await runner("second", fails)
    except Boom as exc:
        out.append(f"raised {exc}")
    out.append(await runner("third", ok))
    return out


@DBOS.workflow(name="test.step_runner")
async def step_runner_workflow(db_url: str, check_first: bool) -> list[object]:
    """Steps run as the engine runs them: body-first only when nothing is recorded yet."""
    history = StepHistory(db_url, APP)
    try:
        runner = await history.runner_for(str(DBOS.workflow_id))
    finally:
        history.close()
    return await _steps_of(StepRunner() if check_first else runner)


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    DBOS(config={"name": APP, "system_database_url": url, "log_level": "WARNING"})
    DBOS.launch()
    RAN.clear()
    yield url
    DBOS.destroy()


async def recorded(run_id: str) -> list[tuple[str, object, str | None]]:
    steps = sorted(await DBOS.list_workflow_steps_async(run_id), key=lambda s: s["function_id"])
    return [
        (s["function_name"], s["output"], type(s["error"]).__name__ if s["error"] else None)
        for s in steps
    ]


@pytest.mark.parametrize("check_first", [False, True])
async def test_both_paths_record_the_same_steps_and_a_rerun_replays_them(
    launched: str, check_first: bool
) -> None:
    run_id = f"runner-{check_first}"
    with SetWorkflowID(run_id):
        first = await step_runner_workflow(launched, check_first)
    assert first == [{"n": 1}, "raised no", {"n": 3}]
    assert await recorded(run_id) == [
        ("first", {"n": 1}, None),
        ("second", None, "Boom"),
        ("third", {"n": 3}, None),
    ]
    # a second execution of the same workflow (a recovery) runs no body: every step is recorded
    handle = await DBOS.fork_workflow_async(run_id, 4)
    assert await handle.get_result() == first
    assert RAN == ["ok", "fails", "ok"]


async def test_history_says_fresh_only_before_any_step_is_recorded(launched: str) -> None:
    history = StepHistory(launched, APP)
    try:
        assert (await history.runner_for("runner-none")).fresh is True
        with SetWorkflowID("runner-done"):
            await step_runner_workflow(launched, False)
        assert (await history.runner_for("runner-done")).fresh is False
    finally:
        history.close()


async def test_outside_a_workflow_a_step_is_a_plain_call(launched: str) -> None:
    assert await _steps_of(StepRunner(fresh=True)) == [{"n": 1}, "raised no", {"n": 3}]
