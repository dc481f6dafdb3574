"""ScriptedModel: `calls` counts requests; keep_requests=False keeps none alive."""

from __future__ import annotations

import anyio
import pytest

from planner import run_planner_loop
from planner.models import ScriptedModel
from tests.engine.helpers import call, echo_tool, loop_input


@pytest.mark.parametrize("keep", [True, False])
def test_calls_count_requests_whether_or_not_they_are_kept(keep: bool) -> None:
    steps = [{"tool_calls": [call("demo.echo", text="x")]}, {"text": "done"}]
    model = ScriptedModel(steps, keep_requests=keep)
    result = anyio.run(run_planner_loop, loop_input(model, [echo_tool()]))
    assert result.summary == "done"
    assert model.calls == 2
    assert len(model.requests) == (2 if keep else 0)
