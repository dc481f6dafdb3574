"""Built-in reminder producers and channel composition."""

from __future__ import annotations

import pytest

from planner import LastCall, LoopState, Usage, run_planner_loop
from planner.errors import ConfigError
from reminders import build_channel, compacted, compose, last_round, retry_loop, token_budget
from tests.engine.helpers import call, echo_tool, failing_tool, make_input


def state(**kw: object) -> LoopState:
    base: dict[str, object] = {"round": 1, "tool_call_count": 0, "usage": Usage()}
    base.update(kw)
    return LoopState(**base)  # type: ignore[arg-type]


def test_token_budget_warns_at_75_and_escalates_at_100() -> None:
    p = token_budget(1000)
    assert p(state(usage=Usage(input_tokens=700))) == []
    assert "75%" in p(state(usage=Usage(input_tokens=700, output_tokens=50)))[0]
    assert "exhausted" in p(state(usage=Usage(input_tokens=1000)))[0]


def test_retry_loop_from_round_three_after_two_failures() -> None:
    bad = LastCall("demo.fail", False, 1.0)
    good = LastCall("demo.echo", True, 1.0)
    p = retry_loop()
    assert p(state(round=2, recent_calls=(bad, bad))) == []
    assert p(state(round=3, recent_calls=(good, bad))) == []
    assert "demo.fail" in p(state(round=3, recent_calls=(bad, bad)))[0]


def test_compacted_and_last_round() -> None:
    assert compacted()(state()) == []
    assert compacted()(state(compactions_done=1))
    assert last_round(3)(state(round=2)) == []
    assert last_round(3)(state(round=3))
    assert last_round()(state(round=4, max_rounds=4))


async def test_counts_per_producer_reach_result_and_transcript() -> None:
    steps = [{"tool_calls": [call("demo.fail")]} for _ in range(3)] + [{"text": "x"}]
    channel = compose(retry_loop(), last_round())
    inp, model = make_input(
        steps, [failing_tool(), echo_tool()], max_rounds=4, reminder_channel=channel
    )
    result = await run_planner_loop(inp)
    assert result.reminder_counts == {"retry_loop": 2, "last_round": 1}
    texts = [m.content for m in model.requests[3].messages if m.transient]
    assert len(texts) == 2


def test_build_channel_from_config() -> None:
    channel = build_channel({"token_budget": {"budget": 10}, "last_round": {}})
    out = channel(state(round=5, max_rounds=5, usage=Usage(input_tokens=20)))
    assert [r.source for r in out] == ["token_budget", "last_round"]  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match=r"reminders.nope: unknown reminder producer"):
        build_channel({"nope": {}})
    with pytest.raises(ConfigError, match=r"reminders.token_budget: bad options"):
        build_channel({"token_budget": {"limit": 3}})
