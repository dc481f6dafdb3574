"""The planner loop through each real adapter against the fake server: same outcomes as scripted.

Each test runs `run_planner_loop` with AnthropicModel, OpenAIChatModel or OpenAIResponsesModel
(JSON and SSE) talking HTTP to the fake LLM server of planner.testing, and asserts on the
result, the transcript and the request bodies the server recorded.
"""

from __future__ import annotations

import itertools

import pytest

from planner import LoopState, PolicyGate, PolicyMode, StopReason, Usage, run_planner_loop
from planner.models.pricing import default_prices
from planner.testing import FakeCall, FakeLLMServer, Reply
from planner.tools import read_tools_are_parallel_safe
from planner.transcript import (
    MemoryTranscript,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    RunFinished,
)
from tests.e2e.conftest import MODEL_NAMES, MakeModel
from tests.e2e.wire import (
    COMBOS,
    REMINDER,
    canonical,
    history,
    reminders_anywhere,
    stored_prefix,
    tool_results,
)
from tests.engine.helpers import Probe, echo_tool, loop_input, plain_tool, sleep_tool
from tests.models.helpers import wire_tool_names as tool_names

PROVIDER_CALL = {
    "anthropic": "anthropic messages.create",
    "chat": "openai chat.completions.create",
    "responses": "openai-responses responses.create",
}


def echo(cid: str, text: str) -> FakeCall:
    return FakeCall("demo__echo", {"text": text}, id=cid)


# --- 1. parallel rounds keep source order -----------------------------------------------


@COMBOS
async def test_parallel_results_go_on_the_wire_in_source_order(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    probe = Probe()
    # Later calls finish first: 150, 90, 30 ms.
    calls = [
        FakeCall("demo__sleep", {"ms": 150 - 60 * i, "label": str(i)}, id=f"c{i}") for i in range(3)
    ]
    llm_server.push(Reply(text="Reading three things.", tool_calls=calls), Reply(text="done"))
    inp = loop_input(
        make_model(kind, stream=stream),
        [sleep_tool(probe)],
        is_parallel_safe=read_tools_are_parallel_safe,
    )
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert probe.peak == 3
    assert probe.finished == ["2", "1", "0"]
    assert [e.call.id for e in result.executed_calls] == ["c0", "c1", "c2"]
    assert len(llm_server.requests) == 2
    body = llm_server.requests[1].body
    results = tool_results(kind, body)
    assert [r.call_id for r in results] == ["c0", "c1", "c2"]
    assert [r.body["data"]["label"] for r in results] == ["0", "1", "2"]
    assert all(r.body["success"] for r in results)
    items = history(kind, body)
    if kind == "anthropic":
        # one user turn holding exactly the three results, in order
        assert [t["role"] for t in items] == ["user", "assistant", "user"]
        assert [b["type"] for b in items[2]["content"]] == ["tool_result"] * 3
    elif kind == "chat":
        assert [m["role"] for m in items] == ["system", "user", "assistant", "tool", "tool", "tool"]
        assert [c["id"] for c in items[2]["tool_calls"]] == ["c0", "c1", "c2"]
    else:
        kinds = [i.get("type") for i in items]
        assert kinds == ["message"] * 3 + ["function_call"] * 3 + ["function_call_output"] * 3
        assert [i["call_id"] for i in items[3:6]] == ["c0", "c1", "c2"]


# --- 2. reminders are transient ---------------------------------------------------------


@COMBOS
async def test_reminders_ride_one_request_each_and_are_never_stored(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    def channel(state: LoopState) -> list[str]:
        return [f"round {state.round} note"]

    llm_server.push(
        Reply(tool_calls=[echo("c1", "a")]),
        Reply(text="Two more.", tool_calls=[echo("c2", "b"), echo("c3", "c")]),
        Reply(text="done"),
    )
    transcript = MemoryTranscript()
    inp = loop_input(
        make_model(kind, stream=stream),
        [echo_tool()],
        reminder_channel=channel,
        transcript=transcript,
    )
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.ASSISTANT_STOP
    bodies = [r.body for r in llm_server.requests]
    assert len(bodies) == 3

    # what sits right before the reminder: the prompt, then each round's tool results
    anthropic_before = {1: ["text"], 2: ["tool_result"], 3: ["tool_result"] * 2}
    openai_before = {
        "chat": {1: "user", 2: "tool", 3: "tool"},
        "responses": {1: "message", 2: "function_call_output", 3: "function_call_output"},
    }
    for n, body in enumerate(bodies, start=1):
        wanted = f"<reminder>round {n} note</reminder>"
        assert reminders_anywhere(body) == [wanted], f"request {n}"
        items = history(kind, body)
        if kind == "anthropic":
            # at the end of the final user turn, after the prompt or the tool results
            last = items[-1]
            assert last["role"] == "user"
            assert last["content"][-1] == {"type": "text", "text": wanted}
            assert [b["type"] for b in last["content"][:-1]] == anthropic_before[n]
        else:
            # a system (chat) / developer (responses) message after the whole history
            assert items[-1]["role"] == ("system" if kind == "chat" else "developer")
            assert items[-1]["content"] == wanted
            field = "role" if kind == "chat" else "type"
            assert items[-2][field] == openai_before[kind][n]

    # request N+1 starts with request N's stored messages, byte for byte
    for before, after in itertools.pairwise(bodies):
        old, new = canonical(stored_prefix(kind, before)), canonical(stored_prefix(kind, after))
        assert new[: len(old)] == old
        assert "".join(new).startswith("".join(old))
        assert before.get("tools") == after.get("tools")
        assert before.get("system") == after.get("system")

    assert not any(m.transient for m in result.messages)
    assert not any(REMINDER in m.content for m in result.messages)
    requests = [e for e in transcript.events if isinstance(e, RequestEvent)]
    assert [r.reminders for r in requests] == [[f"round {n} note"] for n in (1, 2, 3)]
    assert result.reminder_counts == {"channel": 3}


# --- 3. policy denial ---------------------------------------------------------------------


@COMBOS
async def test_policy_denial_is_an_error_result_on_the_wire(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    counter = Probe()
    llm_server.push(
        Reply(tool_calls=[FakeCall("todo__delete", {}, id="c1")]), Reply(text="ok, archived")
    )
    inp = loop_input(
        make_model(kind, stream=stream),
        [plain_tool("todo.delete", hint="destructive", counter=counter)],
        policy=PolicyGate(mode=PolicyMode.ENFORCE),
    )
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert counter.calls == 0
    assert "todo__delete" in tool_names(kind, llm_server.requests[0].body)
    (res,) = tool_results(kind, llm_server.requests[1].body)
    assert res.call_id == "c1"
    assert res.body["success"] is False
    assert res.body["message"].startswith("Tool todo.delete not allowed: destructive-not-allowed")
    if kind == "anthropic":
        assert res.is_error is True


# --- 4. budgets ---------------------------------------------------------------------------


@COMBOS
async def test_token_budget_counts_server_usage_and_stops_after_the_round(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        *(
            Reply(
                tool_calls=[echo(f"c{i}", str(i))],
                input_tokens=60,
                output_tokens=10,
                cache_read_tokens=5,
            )
            for i in range(5)
        )
    )
    transcript = MemoryTranscript()
    inp = loop_input(
        make_model(kind, stream=stream), [echo_tool()], token_budget=140, transcript=transcript
    )
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.BUDGET_EXHAUSTED
    assert result.rounds == 2
    assert len(llm_server.requests) == 2
    assert len(result.executed_calls) == 2
    # cached tokens are reported apart and do not count toward the token budget
    assert result.usage.model_copy(update={"cost_usd": 0.0}) == Usage(
        input_tokens=120, output_tokens=20, cache_read_tokens=10
    )
    assert result.usage.total_tokens == 140
    responses = [e for e in transcript.events if isinstance(e, ResponseEvent)]
    assert [(r.usage.input_tokens, r.usage.output_tokens) for r in responses] == [(60, 10)] * 2
    finished = transcript.events[-1]
    assert isinstance(finished, RunFinished) and finished.stop_reason == "budget_exhausted"


@COMBOS
async def test_cost_budget_with_a_priced_model_ends_the_run(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    price = default_prices().lookup(MODEL_NAMES[kind])
    assert price is not None, f"{MODEL_NAMES[kind]} must be priced in configs/models.toml"
    per_round = price.cost(Usage(input_tokens=100_000, output_tokens=20_000))
    assert per_round > 0
    llm_server.push(
        *(
            Reply(tool_calls=[echo(f"c{i}", str(i))], input_tokens=100_000, output_tokens=20_000)
            for i in range(6)
        )
    )
    inp = loop_input(
        make_model(kind, stream=stream), [echo_tool()], cost_budget_usd=2.5 * per_round
    )
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.BUDGET_EXHAUSTED
    assert result.rounds == 3
    assert len(llm_server.requests) == 3
    assert result.usage.cost_usd == pytest.approx(3 * per_round)


# --- 5. retries and model errors --------------------------------------------------------


@COMBOS
async def test_rate_limit_retry_becomes_a_transcript_event(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply.error(429, headers={"retry-after": "0.05"}, message="slow down"),
        Reply(tool_calls=[echo("c1", "a")]),
        Reply(text="done"),
    )
    transcript = MemoryTranscript()
    inp = loop_input(make_model(kind, stream=stream), [echo_tool()], transcript=transcript)
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert result.summary == "done"
    assert len(llm_server.requests) == 3
    # the retried request is the same request
    assert llm_server.requests[0].body == llm_server.requests[1].body
    retries = [e for e in transcript.events if isinstance(e, RetryEvent)]
    assert len(retries) == 1
    retry = retries[0]
    assert (retry.round, retry.attempt, retry.status) == (1, 1, 429)
    assert retry.wait_s == pytest.approx(0.05)  # the server's retry-after, not the backoff
    assert "HTTP 429" in retry.error and "slow down" in retry.error
    types = [e.type for e in transcript.events]  # type: ignore[attr-defined]
    assert types.index("retry") == types.index("request") + 1
    assert types[types.index("retry") + 1] == "response"
    assert types[-1] == "run_finished"


@COMBOS
async def test_bad_request_ends_with_model_error_and_a_finished_transcript(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply(tool_calls=[echo("c1", "a")]),
        Reply.error(400, message="messages.2: bad tool result"),
        Reply(text="never sent"),
    )
    transcript = MemoryTranscript()
    inp = loop_input(make_model(kind, stream=stream), [echo_tool()], transcript=transcript)
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.MODEL_ERROR
    assert result.rounds == 2
    assert len(llm_server.requests) == 2  # a 400 is never retried
    assert result.error is not None
    assert result.error.startswith(f"ModelError: {PROVIDER_CALL[kind]} failed: HTTP 400")
    assert "invalid_request_error: messages.2: bad tool result" in result.error
    assert result.error.endswith("(not retryable after 1 attempt)")
    assert not [e for e in transcript.events if isinstance(e, RetryEvent)]
    finished = transcript.events[-1]
    assert isinstance(finished, RunFinished)
    assert finished.stop_reason == "model_error"
    assert finished.error == result.error
    assert finished.rounds == 2 and finished.tool_calls == 1


# --- 6. malformed tool arguments --------------------------------------------------------

MALFORMED = pytest.mark.parametrize(
    ("kind", "stream"),
    # Anthropic can only send broken JSON as streamed input_json_delta pieces.
    [
        ("chat", False),
        ("chat", True),
        ("responses", False),
        ("responses", True),
        ("anthropic", True),
    ],
    ids=["chat-json", "chat-sse", "responses-json", "responses-sse", "anthropic-sse"],
)


@MALFORMED
async def test_malformed_tool_json_is_an_error_result_and_the_loop_goes_on(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    broken = FakeCall("demo__echo", '{"text": "unterminated', id="c1")
    llm_server.push(
        Reply(tool_calls=[broken, echo("c2", "fine")]), Reply(text="recovered"), Reply(text="x")
    )
    inp = loop_input(make_model(kind, stream=stream), [echo_tool()])
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert result.summary == "recovered"
    assert len(llm_server.requests) == 2
    first, second = result.executed_calls
    assert not first.result.success
    assert first.result.message.startswith("arguments are not valid JSON: ")
    assert "unterminated" in first.result.message
    assert second.result.success
    wire = tool_results(kind, llm_server.requests[1].body)
    assert [r.call_id for r in wire] == ["c1", "c2"]
    assert wire[0].body["success"] is False
    assert wire[0].body["message"] == first.result.message
    assert wire[1].body == {"success": True, "message": "ok", "data": {"echoed": "fine"}}
    if kind == "anthropic":
        assert [r.is_error for r in wire] == [True, False]


# --- transport failures and stop reasons: the same outcomes as the scripted model ----------


@COMBOS
async def test_a_dropped_connection_is_retried_and_recorded(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply.dropped(), Reply(text="done"))
    transcript = MemoryTranscript()
    inp = loop_input(make_model(kind, stream=stream), [echo_tool()], transcript=transcript)
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert result.summary == "done"
    assert len(llm_server.requests) == 2
    (retry,) = [e for e in transcript.events if isinstance(e, RetryEvent)]
    assert (retry.round, retry.attempt, retry.status) == (1, 1, None)


async def test_an_anthropic_stream_error_event_is_retried(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply(stream_error="overloaded_error", error_message="Overloaded"), Reply(text="done")
    )
    transcript = MemoryTranscript()
    inp = loop_input(make_model("anthropic", stream=True), [echo_tool()], transcript=transcript)
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.ASSISTANT_STOP
    (retry,) = [e for e in transcript.events if isinstance(e, RetryEvent)]
    assert retry.status is None
    assert retry.error == "stream error overloaded_error: Overloaded"


@COMBOS
@pytest.mark.parametrize("stop", ["max_tokens", "refusal"])
async def test_an_answer_that_did_not_end_its_turn_is_no_tool_calls(
    kind: str, stream: bool, stop: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="cut off", stop=stop))
    transcript = MemoryTranscript()
    inp = loop_input(make_model(kind, stream=stream), [echo_tool()], transcript=transcript)
    result = await run_planner_loop(inp)

    assert result.stop_reason is StopReason.NO_TOOL_CALLS
    assert result.summary == "cut off"
    (response,) = [e for e in transcript.events if isinstance(e, ResponseEvent)]
    assert response.stop_reason == stop
