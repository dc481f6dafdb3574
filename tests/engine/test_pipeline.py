"""The one call pipeline: order of its steps, events written when each call starts and ends."""

from __future__ import annotations

from typing import Any

import anyio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from missions.otel import SpanTranscript
from planner import (
    PolicyGate,
    PolicyMode,
    RoundDispatch,
    ToolCall,
    ToolContext,
    ToolRegistry,
    UserPolicySettings,
    dispatch_call,
    run_planner_loop,
)
from planner.transcript import MemoryTranscript, PolicyEvent, ToolCallEvent, ToolResultEvent
from tests.engine.helpers import Probe, call, echo_tool, make_input, sleep_tool
from tests.engine.test_parallel import round_of

CTX = ToolContext("u1", "s1", "r1")


def limited_gate(limit: int) -> PolicyGate:
    settings = UserPolicySettings(per_tool_rate_limit={"demo.echo": limit})
    return PolicyGate(mode=PolicyMode.ENFORCE, settings_for=lambda _u: settings)


async def test_invalid_arguments_never_count_against_the_rate_limit() -> None:
    gate = limited_gate(1)
    setup = RoundDispatch(ToolRegistry([echo_tool()]), CTX, gate)
    bad = await dispatch_call(setup, ToolCall(id="c1", name="demo.echo", arguments={"text": 3}))
    good = await dispatch_call(setup, ToolCall(id="c2", name="demo.echo", arguments={"text": "x"}))
    over = await dispatch_call(setup, ToolCall(id="c3", name="demo.echo", arguments={"text": "y"}))
    assert bad.result.message.startswith("invalid arguments: text:")
    assert bad.decision is None
    assert good.result.success and good.result.data == {"echoed": "x"}
    assert not over.result.success and "rate-limit-exceeded" in over.result.message


async def test_the_loop_validates_before_it_gates() -> None:
    steps = [
        {"tool_calls": [call("demo.echo", "c1", text=1), call("demo.echo", "c2", text="ok")]},
        {"text": "done"},
    ]
    transcript = MemoryTranscript()
    inp, _ = make_input(steps, [echo_tool()], policy=limited_gate(1), transcript=transcript)
    result = await run_planner_loop(inp)
    assert [e.result.success for e in result.executed_calls] == [False, True]
    policy = [e for e in transcript.events if isinstance(e, PolicyEvent)]
    assert [(e.call_id, e.verdict) for e in policy] == [("c2", "allow")]


async def test_each_call_is_recorded_when_it_starts_and_when_it_ends() -> None:
    transcript = MemoryTranscript()
    steps = [{"tool_calls": [call("demo.sleep", "a", ms=30), call("demo.sleep", "b", ms=30)]}]
    inp, _ = make_input([*steps, {"text": "done"}], [sleep_tool(Probe())], transcript=transcript)
    await run_planner_loop(inp)
    kinds = [
        (type(e).__name__, e.call_id)
        for e in transcript.events
        if isinstance(e, ToolCallEvent | ToolResultEvent)
    ]
    assert kinds == [
        ("ToolCallEvent", "a"),
        ("ToolResultEvent", "a"),
        ("ToolCallEvent", "b"),
        ("ToolResultEvent", "b"),
    ]
    started = {e.call_id: e.ts for e in transcript.events if isinstance(e, ToolCallEvent)}
    ended = {e.call_id: e for e in transcript.events if isinstance(e, ToolResultEvent)}
    assert started["b"] >= ended["a"].ts
    for cid in "ab":
        assert ended[cid].ts - started[cid] >= 0.025
        assert abs((ended[cid].ts - started[cid]) * 1000 - ended[cid].duration_ms) < 50


async def test_a_call_waiting_for_a_window_slot_starts_when_it_gets_one() -> None:
    from planner.tools import read_tools_are_parallel_safe

    transcript = MemoryTranscript()
    inp, _ = make_input(
        round_of(11, ms=60),
        [sleep_tool(Probe())],
        is_parallel_safe=read_tools_are_parallel_safe,
        transcript=transcript,
    )
    await run_planner_loop(inp)
    started = {e.call_id: e.ts for e in transcript.events if isinstance(e, ToolCallEvent)}
    ended = {e.call_id: e.ts for e in transcript.events if isinstance(e, ToolResultEvent)}
    first_end = min(ended[f"c{i}"] for i in range(10))
    assert started["c10"] >= first_end
    assert max(started[f"c{i}"] for i in range(10)) < first_end


async def test_finished_results_are_written_while_a_slow_call_still_runs() -> None:
    from planner.tools import read_tools_are_parallel_safe

    transcript = MemoryTranscript()
    calls = [call("demo.sleep", "quick", ms=5), call("demo.sleep", "slow", ms=5000)]
    probe = Probe()
    inp, _ = make_input(
        [{"tool_calls": calls}, {"text": "done"}],
        [sleep_tool(probe, timeout_s=10)],
        is_parallel_safe=read_tools_are_parallel_safe,
        transcript=transcript,
    )
    seen: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(run_planner_loop, inp)
        with anyio.fail_after(5):
            while not seen:
                await anyio.sleep(0.01)
                seen = [e.call_id for e in transcript.events if isinstance(e, ToolResultEvent)]
        assert probe.running == 1  # the slow call is still in flight
        tg.cancel_scope.cancel()
    assert seen == ["quick"]


async def test_tool_spans_get_the_real_durations_of_their_calls() -> None:
    from planner.tools import read_tools_are_parallel_safe

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    spans = SpanTranscript(provider.get_tracer("test"), "pipeline")
    calls = [call("demo.sleep", f"c{ms}", ms=ms, label=str(ms)) for ms in (10, 50, 100)]
    inp, _ = make_input(
        [{"tool_calls": calls}, {"text": "done"}],
        [sleep_tool(Probe())],
        is_parallel_safe=read_tools_are_parallel_safe,
        transcript=spans,
    )
    await run_planner_loop(inp)
    durations: dict[Any, float] = {}
    for span in exporter.get_finished_spans():
        if span.name == "execute_tool demo.sleep" and span.attributes is not None:
            assert span.end_time is not None and span.start_time is not None
            ms = (span.end_time - span.start_time) / 1e6
            durations[span.attributes["gen_ai.tool.call.id"]] = ms
    assert set(durations) == {"c10", "c50", "c100"}
    # before the pipeline wrote events as calls ran, all three lasted the whole round
    assert durations["c10"] >= 9 and durations["c50"] >= 49 and durations["c100"] >= 99
    assert durations["c10"] < durations["c50"] < durations["c100"]
