"""Sub-agents through the `task` tool: the contract, one test per rule."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from planner import (
    PolicyGate,
    PolicyMode,
    StopReason,
    UserPolicySettings,
    run_planner_loop,
)
from planner.errors import ModelError
from planner.models import ScriptedModel
from planner.replay import RecordedRun, replay_run
from planner.subagents import DEFAULT_SUBAGENTS, PLAN_PROMPT, SubAgentSpec
from planner.tools import read_tools_are_parallel_safe
from planner.transcript import FileTranscript, RequestEvent, ToolResultEvent, read_transcript
from tests.engine.helpers import Probe, call, echo_tool, make_input, plain_tool, sleep_tool

RESEARCH, PLAN, GENERAL = DEFAULT_SUBAGENTS


def task(kind: str, prompt: str, cid: str | None = None) -> dict[str, Any]:
    return call("task", cid, subagent_type=kind, description=f"{kind} job", prompt=prompt)


def with_model(spec: SubAgentSpec, steps: list[Any]) -> tuple[SubAgentSpec, ScriptedModel]:
    model = ScriptedModel(steps)
    return replace(spec, model=model), model


async def test_fresh_context_and_restricted_tools() -> None:
    writes = Probe()
    research, sub_model = with_model(
        RESEARCH,
        [
            {"tool_calls": [call("demo.echo", "s1", text="x"), call("todo.create", "s2")]},
            {"text": "found x"},
        ],
    )
    steps = [
        {"text": "I will delegate", "tool_calls": [task("research", "find x", "t1")]},
        {"text": "done"},
    ]
    tools = [echo_tool(), plain_tool("todo.create", "write", counter=writes)]
    inp, parent_model = make_input(steps, tools, subagents=[research])
    result = await run_planner_loop(inp)

    first = sub_model.requests[0]
    assert [m.role for m in first.messages] == ["user"]
    assert first.messages[0].content == "find x"
    assert "sub-agent" in first.system_prompt
    assert [t.name for t in first.tools] == ["demo.echo"]  # read tools only, no `task`
    assert "task" in [t.name for t in parent_model.requests[0].tools]
    sub_results = [m for m in sub_model.requests[1].messages if m.role == "tool"]
    assert "unknown tool 'todo.create'" in json.loads(sub_results[1].content)["message"]
    assert writes.calls == 0
    assert result.stop_reason is StopReason.ASSISTANT_STOP


async def test_one_summary_back_and_no_sub_calls_in_parent_history() -> None:
    research, _ = with_model(
        RESEARCH,
        [
            {"tool_calls": [call("demo.echo", text="a")], "usage": {"input_tokens": 10}},
            {"text": "summary of a", "usage": {"input_tokens": 20, "output_tokens": 5}},
        ],
    )
    steps = [{"tool_calls": [task("research", "look at a", "t1")]}, {"text": "done"}]
    inp, parent_model = make_input(steps, [echo_tool()], subagents=[research])
    result = await run_planner_loop(inp)
    tool_msgs = [m for m in parent_model.requests[1].messages if m.role == "tool"]
    assert len(tool_msgs) == 1
    body = json.loads(tool_msgs[0].content)
    assert body["success"] is True and body["message"] == "summary of a"
    assert body["data"]["subagent_type"] == "research"
    assert body["data"]["rounds"] == 2 and body["data"]["tool_calls"] == 1
    assert body["data"]["stop_reason"] == "assistant_stop"
    assert body["data"]["usage"]["input_tokens"] == 30
    names = [c.name for m in result.messages for c in m.tool_calls]
    assert names == ["task"]
    assert [e.call.name for e in result.executed_calls] == ["task"]


async def test_round_limit_without_answer_is_a_clear_line() -> None:
    plan, _ = with_model(PLAN, [{"tool_calls": [call("demo.echo", text=str(i))]} for i in range(3)])
    steps = [{"tool_calls": [task("plan", "plan it", "t1")]}, {"text": "done"}]
    inp, _ = make_input(steps, [echo_tool()], subagents=[plan])
    result = await run_planner_loop(inp)
    res = result.executed_calls[0].result
    assert not res.success
    assert (
        res.message == "sub-agent plan stopped (max_rounds) after 3 rounds without a final answer"
    )
    assert plan.system_prompt == PLAN_PROMPT


async def test_task_is_refused_inside_a_sub_agent() -> None:
    general, sub_model = with_model(
        GENERAL, [{"tool_calls": [task("general", "recurse", "s1")]}, {"text": "gave up"}]
    )
    steps = [{"tool_calls": [task("general", "go", "t1")]}, {"text": "done"}]
    inp, _ = make_input(steps, [echo_tool()], subagents=[general])
    await run_planner_loop(inp)
    assert "task" not in [t.name for t in sub_model.requests[0].tools]
    inner = next(m for m in sub_model.requests[1].messages if m.role == "tool")
    assert "unknown tool 'task'" in json.loads(inner.content)["message"]


async def test_same_gate_and_log_across_parent_and_sub_agent() -> None:
    limits = UserPolicySettings(per_tool_rate_limit={"demo.echo": 2})
    gate = PolicyGate(mode=PolicyMode.ENFORCE, settings_for=lambda u: limits)
    research, sub_model = with_model(
        RESEARCH,
        [
            {"tool_calls": [call("demo.echo", text="1"), call("demo.echo", text="2")]},
            {"text": "ok"},
        ],
    )
    steps = [
        {"tool_calls": [call("demo.echo", "p1", text="0")]},
        {"tool_calls": [task("research", "echo twice", "t1")]},
        {"text": "done"},
    ]
    inp, _ = make_input(steps, [echo_tool()], subagents=[research], policy=gate)
    await run_planner_loop(inp)
    inner = [json.loads(m.content) for m in sub_model.requests[1].messages if m.role == "tool"]
    assert inner[0]["success"] is True
    assert inner[1]["message"].startswith("Tool demo.echo not allowed: rate-limit-exceeded")


async def test_usage_rolls_up_and_budget_is_shared() -> None:
    research, _ = with_model(
        RESEARCH,
        [
            {"tool_calls": [call("demo.echo", text="a")], "usage": {"input_tokens": 300}},
            {"tool_calls": [call("demo.echo", text="b")], "usage": {"input_tokens": 300}},
            {"text": "never reached"},
        ],
    )
    steps = [
        {"tool_calls": [task("research", "dig", "t1")], "usage": {"input_tokens": 100}},
        {"text": "done"},
    ]
    inp, _ = make_input(steps, [echo_tool()], subagents=[research], token_budget=500)
    result = await run_planner_loop(inp)
    res = result.executed_calls[0].result
    assert not res.success and "ran out of budget" in res.message
    assert res.data["stop_reason"] == "budget_exhausted"
    assert res.data["rounds"] == 2  # 300 of the 400 left after round 1, then over
    assert result.usage.input_tokens == 700
    assert result.stop_reason is StopReason.BUDGET_EXHAUSTED


async def test_read_only_tasks_run_concurrently_general_is_sequential() -> None:
    probe = Probe()

    def sub_model(kind: str, path: str) -> ScriptedModel:
        return ScriptedModel(
            [{"tool_calls": [call("demo.sleep", ms=50, label=path)]}, {"text": f"{path} done"}]
        )

    def parent(kinds: list[str]) -> list[Any]:
        return [
            {"tool_calls": [task(k, "sleep", f"t{i}") for i, k in enumerate(kinds)]},
            {"text": "done"},
        ]

    tools = [sleep_tool(probe), plain_tool("todo.create")]
    inp, _ = make_input(
        parent(["research"] * 3),
        tools,
        subagents=DEFAULT_SUBAGENTS,
        subagent_model=sub_model,
        is_parallel_safe=read_tools_are_parallel_safe,
    )
    result = await run_planner_loop(inp)
    assert probe.peak == 3
    assert [e.result.message for e in result.executed_calls] == ["t0 done", "t1 done", "t2 done"]

    probe2 = Probe()
    tools = [sleep_tool(probe2), plain_tool("todo.create")]
    inp, _ = make_input(
        parent(["research", "general", "research"]),
        tools,
        subagents=DEFAULT_SUBAGENTS,
        subagent_model=sub_model,
        is_parallel_safe=read_tools_are_parallel_safe,
    )
    await run_planner_loop(inp)
    assert probe2.peak == 1


class _Failing:
    model_id = "failing"

    async def complete(self, request: Any) -> Any:
        raise ModelError("upstream 500 after 5 attempts")


async def test_sub_agent_failure_is_an_error_result_for_the_parent() -> None:
    research = replace(RESEARCH, model=_Failing())
    steps = [{"tool_calls": [task("research", "x", "t1")]}, {"text": "handled"}]
    inp, _ = make_input(steps, [echo_tool()], subagents=[research])
    result = await run_planner_loop(inp)
    res = result.executed_calls[0].result
    assert not res.success
    assert res.message.startswith("sub-agent research failed: ModelError: upstream 500")
    assert result.summary == "handled"


async def test_cancelling_the_parent_cancels_its_sub_agents() -> None:
    probe = Probe()
    research, _ = with_model(RESEARCH, [{"tool_calls": [call("demo.sleep", ms=5000)]}])
    scope = anyio.CancelScope()
    steps = [{"tool_calls": [task("research", "x", "t1")]}]
    inp, _ = make_input(
        steps, [sleep_tool(probe, timeout_s=10)], subagents=[research], cancel_scope=scope
    )
    results: list[Any] = []
    async with anyio.create_task_group() as tg:

        async def runner() -> None:
            results.append(await run_planner_loop(inp))

        tg.start_soon(runner)
        await anyio.sleep(0.1)
        assert probe.running == 1
        scope.cancel()
    assert results[0].stop_reason is StopReason.CANCELLED
    assert probe.running == 0 and probe.finished == []


async def _record_nested(path: Path) -> None:
    research, _ = with_model(
        RESEARCH,
        [
            {"tool_calls": [call("demo.echo", "s1", text="inner")]},
            {"text": "inner summary"},
        ],
    )
    steps = [
        {"tool_calls": [call("demo.echo", "p1", text="outer")]},
        {"tool_calls": [task("research", "dig", "t1")]},
        {"text": "done"},
    ]
    with FileTranscript(path) as transcript:
        inp, _ = make_input(steps, [echo_tool()], subagents=[research], transcript=transcript)
        await run_planner_loop(inp)


async def test_sub_agent_events_nest_and_replay_identical(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    await _record_nested(path)
    events = list(read_transcript(path))
    nested = [e for e in events if isinstance(e, RequestEvent) and e.path == "t1"]
    assert len(nested) == 2
    inner = [e for e in events if isinstance(e, ToolResultEvent) and e.path == "t1"]
    assert inner[0].run_id == "r1/t1" and inner[0].call_id == "s1"
    report = await replay_run(RecordedRun.load(path))
    assert report.identical, report.divergence
    assert report.requests_compared == 5


async def test_divergence_inside_a_sub_agent_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    await _record_nested(path)
    lines = path.read_text().splitlines()
    edited = []
    for line in lines:
        event = json.loads(line)
        if event.get("type") == "tool_result" and event.get("path") == "t1":
            event["data"] = {"echoed": "changed"}
        edited.append(json.dumps(event))
    # the recorded requests keep the original result, the replayed run sees the edited one
    path.write_text("\n".join(edited) + "\n")
    report = await replay_run(RecordedRun.load(path))
    assert report.divergence is not None
    assert report.divergence.path == "t1"
    assert report.divergence.round == 2
    assert report.divergence.where == "sub-agent at call t1, sub-round 2"


async def test_sub_agent_timeout_is_an_error_result_for_the_parent() -> None:
    probe = Probe()
    research, _ = with_model(RESEARCH, [{"tool_calls": [call("demo.sleep", ms=5000)]}])
    research = replace(research, timeout_s=0.05)
    steps = [{"tool_calls": [task("research", "slow", "t1")]}, {"text": "went on"}]
    inp, _ = make_input(steps, [sleep_tool(probe, timeout_s=10)], subagents=[research])
    result = await run_planner_loop(inp)
    res = result.executed_calls[0].result
    assert not res.success and res.message == "tool task timed out after 0.05s"
    assert probe.running == 0
    assert result.summary == "went on"


def test_the_loop_does_not_know_sub_agents() -> None:
    import ast
    import dataclasses

    from planner import DEFAULT_SUBAGENTS as exported
    from planner import PlannerLoopInput, with_subagents  # noqa: F401  (the public surface)
    from planner import SubAgentSpec as ExportedSpec

    assert exported is DEFAULT_SUBAGENTS and ExportedSpec is SubAgentSpec
    source = (Path(__file__).resolve().parents[2] / "planner" / "loop.py").read_text()
    imported = {
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "planner.subagents" not in imported
    names = {f.name for f in dataclasses.fields(PlannerLoopInput)}
    assert not names & {"subagents", "subagent_model"}


async def test_with_subagents_adds_a_nested_run_task_tool_and_nothing_without_kinds() -> None:
    from planner import with_subagents

    inp, _ = make_input([{"text": "done"}], [echo_tool()])
    assert with_subagents(inp, ()) is inp
    offered = with_subagents(inp, DEFAULT_SUBAGENTS)
    task_spec = offered.tools.get("task")
    assert task_spec is not None and task_spec.nested_run and task_spec.policy_hint == "read"
    assert inp.tools.get("task") is None
    kinds = offered.settings["subagents"]
    assert [k["name"] for k in kinds] == ["research", "plan", "general"]
    assert kinds[0]["tools"] == ["demo.echo"]


async def test_any_tool_result_usage_counts_in_totals_and_budgets() -> None:
    from planner import ToolContext, ToolResult, ToolSpec, Usage
    from tests.engine.helpers import EchoIn, EchoOut

    seen: list[ToolContext] = []

    async def priced(ctx: ToolContext, inp: EchoIn) -> ToolResult:
        seen.append(ctx)
        return ToolResult(True, "drawn", {"n": 1}, Usage(input_tokens=150, cost_usd=0.25))

    spec = ToolSpec("image.draw", "Draw.", EchoIn, EchoOut, priced, policy_hint="read")
    steps = [
        {"tool_calls": [call("image.draw", "a", text="x"), call("image.draw", "b", text="y")]},
        {"tool_calls": [call("image.draw", "c", text="z")]},
        {"text": "never"},
    ]
    inp, _ = make_input(steps, [spec], token_budget=1000, cost_budget_usd=0.6)
    result = await run_planner_loop(inp)
    assert result.usage.input_tokens == 450 and result.usage.cost_usd == 0.75
    assert result.stop_reason is StopReason.BUDGET_EXHAUSTED
    # the second call of a round sees what the first one spent
    assert [c.token_budget_left for c in seen] == [1000, 850, 700]
    assert [c.cost_budget_left_usd for c in seen] == pytest.approx([0.6, 0.35, 0.1])


async def test_replay_reads_sub_agent_kinds_of_transcripts_before_the_plug_in(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nested.jsonl"
    await _record_nested(path)
    lines = []
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if event.get("type") == "run_started" and not event.get("path"):
            event["loop"]["subagents"] = event["settings"].pop("subagents")
        lines.append(json.dumps(event))
    path.write_text("\n".join(lines) + "\n")
    report = await replay_run(RecordedRun.load(path))
    assert report.identical, report.divergence
    assert report.requests_compared == 5
