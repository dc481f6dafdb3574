"""Structured output through each real adapter (JSON and SSE) against the fake server, which
answers a `Reply(output=...)` only when the request carries the native parameters."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from planner import StopReason, run_planner_loop
from planner.testing import FakeCall, FakeLLMServer, Reply
from planner.transcript import MemoryTranscript, RunFinished, RunStarted
from tests.e2e.conftest import MakeModel
from tests.e2e.wire import COMBOS
from tests.engine.helpers import echo_tool, loop_input


class Digest(BaseModel):
    title: str
    items: list[str]


GOOD = {"title": "Tuesday", "items": ["gym"]}


def native_schema(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The schema the request carries in the provider's native structured-output place."""
    if kind == "chat":
        fmt = body["response_format"]
        assert fmt["type"] == "json_schema"
        assert fmt["json_schema"]["name"] == "Digest"
        assert fmt["json_schema"]["strict"] is False
        return dict(fmt["json_schema"]["schema"])
    if kind == "responses":
        fmt = body["text"]["format"]
        assert fmt["type"] == "json_schema" and fmt["name"] == "Digest"
        return dict(fmt["schema"])
    final = body["tools"][-1]
    assert final["name"] == "final_result"
    return dict(final["input_schema"])


@COMBOS
async def test_a_structured_answer_is_validated_and_recorded(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply(tool_calls=[FakeCall("demo__echo", {"text": "hi"}, id="c1")]),
        Reply(output=GOOD),
    )
    transcript = MemoryTranscript()
    inp = loop_input(
        make_model(kind, stream=stream), [echo_tool()], output_model=Digest, transcript=transcript
    )
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.ASSISTANT_STOP, result.error
    assert result.output == Digest(**GOOD)
    for request in llm_server.requests:
        assert native_schema(kind, request.body) == Digest.model_json_schema()
    if kind == "anthropic":  # a tool must be called: the echo tool or the final answer
        assert llm_server.requests[0].body["tool_choice"] == {"type": "any"}
        assert [t["name"] for t in llm_server.requests[0].body["tools"]] == [
            "demo__echo",
            "final_result",
        ]
    started = next(e for e in transcript.events if isinstance(e, RunStarted))
    assert started.output is not None and started.output["schema"] == Digest.model_json_schema()
    assert [t.name for t in started.tools] == ["demo.echo"]  # the answer tool is wire-only
    finished = next(e for e in transcript.events if isinstance(e, RunFinished))
    assert finished.output == GOOD


@COMBOS
async def test_an_invalid_structured_answer_is_corrected_once(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(output={"title": 7}), Reply(output=GOOD))
    inp = loop_input(make_model(kind, stream=stream), [], output_model=Digest)
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.ASSISTANT_STOP, result.error
    assert result.output == Digest(**GOOD)
    assert len(llm_server.requests) == 2
    second = json.dumps(llm_server.requests[1].body)
    assert "not valid output" in second and "items" in second
    if kind == "anthropic":  # no tools of its own: the answer tool itself is forced
        assert llm_server.requests[0].body["tool_choice"] == {
            "type": "tool",
            "name": "final_result",
        }


@COMBOS
async def test_invalid_twice_over_the_wire_is_output_invalid(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(output="not json at all"), Reply(output={"items": "x"}))
    inp = loop_input(make_model(kind, stream=stream), [], output_model=Digest)
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.OUTPUT_INVALID
    assert result.output is None
    assert len(llm_server.requests) == 2


@COMBOS
async def test_the_fake_server_refuses_structured_replies_to_plain_requests(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(output=GOOD))
    inp = loop_input(make_model(kind, stream=stream), [echo_tool()])  # no output model
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.MODEL_ERROR
    assert result.error is not None and "fake llm server" in result.error
