"""Sub-agents in one round: 5 research sub-agents, each 3 rounds of a 50 ms model."""

from __future__ import annotations

import time
from typing import Any

import anyio

from bench.workloads import SLEEP
from planner import (
    DEFAULT_SUBAGENTS,
    PlannerLoopInput,
    ToolContext,
    ToolRegistry,
    run_planner_loop,
    with_subagents,
)
from planner.models import ScriptedModel
from planner.tools import read_tools_are_parallel_safe

MODEL_LATENCY_S = 0.050
SUB_ROUNDS = 3
SUBAGENTS = 5


def _sub_model(_kind: str, _path: str) -> ScriptedModel:
    steps: list[Any] = [
        {"tool_calls": [{"name": "bench.sleep", "arguments": {"ms": 0}}]}
        for _ in range(SUB_ROUNDS - 1)
    ]
    steps.append({"text": "summary"})
    return ScriptedModel(steps, latency_s=MODEL_LATENCY_S)


async def _one_round() -> float:
    task = {
        "name": "task",
        "arguments": {"subagent_type": "research", "description": "d", "prompt": "p"},
    }
    parent = ScriptedModel([{"tool_calls": [task] * SUBAGENTS}, {"text": "done"}])
    inp = PlannerLoopInput(
        model=parent,
        system_prompt="bench",
        user_prompt="bench",
        tools=ToolRegistry([SLEEP]),
        context=ToolContext("bench-user", "bench-space", "bench-run"),
        is_parallel_safe=read_tools_are_parallel_safe,
    )
    inp = with_subagents(inp, DEFAULT_SUBAGENTS, model_for=_sub_model)
    start = time.perf_counter()
    result = await run_planner_loop(inp)
    wall = time.perf_counter() - start
    data = [e.result.data for e in result.executed_calls]
    if len(data) != SUBAGENTS or any(d["rounds"] != SUB_ROUNDS for d in data):
        raise RuntimeError("the sub-agents did not do the work the workload asks for")
    return wall


def subagent_figures(batches: int = 5) -> dict[str, float]:
    """Wall of a round of 5 sub-agents against the ideal of 3 x 50 ms."""

    async def go() -> float:
        await _one_round()
        walls = sorted([await _one_round() for _ in range(batches)])
        return walls[len(walls) // 2]

    wall = anyio.run(go)
    ideal = SUB_ROUNDS * MODEL_LATENCY_S
    return {"subagents5_wall_ms": wall * 1000, "subagents5_vs_ideal": wall / ideal}
