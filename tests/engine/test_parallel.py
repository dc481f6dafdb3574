"""Parallel-safe rounds: a sliding window of 10, results in source order."""

from __future__ import annotations

from planner import PARALLEL_TOOL_BATCH_SIZE, run_planner_loop
from planner.tools import read_tools_are_parallel_safe
from tests.engine.helpers import Probe, call, make_input, sleep_tool


def round_of(n: int, ms: float = 20.0, name: str = "demo.sleep") -> list[dict[str, object]]:
    calls = [call(name, f"c{i}", ms=ms, label=str(i)) for i in range(n)]
    return [{"tool_calls": calls}, {"text": "done"}]


async def test_three_safe_calls_run_together() -> None:
    probe = Probe()
    inp, _ = make_input(
        round_of(3), [sleep_tool(probe)], is_parallel_safe=read_tools_are_parallel_safe
    )
    await run_planner_loop(inp)
    assert probe.peak == 3


async def test_one_unsafe_call_makes_the_round_sequential() -> None:
    probe = Probe()
    steps = [
        {
            "tool_calls": [
                call("demo.sleep", ms=10, label="a"),
                call("demo.write", ms=10, label="b"),
                call("demo.sleep", ms=10, label="c"),
            ]
        },
        {"text": "done"},
    ]
    tools = [sleep_tool(probe), sleep_tool(probe, name="demo.write", hint="write")]
    inp, _ = make_input(steps, tools, is_parallel_safe=read_tools_are_parallel_safe)
    await run_planner_loop(inp)
    assert probe.peak == 1
    assert probe.finished == ["a", "b", "c"]


async def test_window_reaches_ten_and_never_more() -> None:
    probe = Probe()
    inp, _ = make_input(
        round_of(15, ms=30), [sleep_tool(probe)], is_parallel_safe=read_tools_are_parallel_safe
    )
    result = await run_planner_loop(inp)
    assert PARALLEL_TOOL_BATCH_SIZE == 10
    assert probe.peak == 10
    assert probe.calls == 15
    assert len(result.executed_calls) == 15


async def test_no_predicate_means_sequential() -> None:
    probe = Probe()
    inp, _ = make_input(round_of(4, ms=5), [sleep_tool(probe)])
    await run_planner_loop(inp)
    assert probe.peak == 1


async def test_results_keep_source_order_when_later_calls_finish_first() -> None:
    probe = Probe()
    calls = [call("demo.sleep", f"c{i}", ms=60 - 20 * i, label=str(i)) for i in range(3)]
    inp, model = make_input(
        [{"tool_calls": calls}, {"text": "done"}],
        [sleep_tool(probe)],
        is_parallel_safe=read_tools_are_parallel_safe,
    )
    result = await run_planner_loop(inp)
    assert probe.finished == ["2", "1", "0"]
    assert [e.call.id for e in result.executed_calls] == ["c0", "c1", "c2"]
    tool_ids = [m.tool_call_id for m in model.requests[1].messages if m.role == "tool"]
    assert tool_ids == ["c0", "c1", "c2"]


async def test_sliding_window_frees_a_slot_at_once() -> None:
    # One slow call and 10 quick ones: with fixed chunks of 10 the 11th call would wait
    # for the slow one; a sliding window starts it as soon as a quick call ends.
    probe = Probe()
    calls = [call("demo.sleep", "slow", ms=300, label="slow")]
    calls += [call("demo.sleep", f"q{i}", ms=20, label=f"q{i}") for i in range(10)]
    inp, _ = make_input(
        [{"tool_calls": calls}, {"text": "done"}],
        [sleep_tool(probe)],
        is_parallel_safe=read_tools_are_parallel_safe,
    )
    await run_planner_loop(inp)
    assert probe.finished[-1] == "slow"
    assert probe.finished.index("q9") < probe.finished.index("slow")
