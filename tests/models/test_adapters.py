"""The same scenarios on every adapter, over the real wire formats of a local fake server."""

from __future__ import annotations

import json

import pytest

from planner.errors import ModelError
from planner.messages import ModelResponse
from planner.models.retry import RetryPolicy
from planner.testing import FakeCall, FakeLLMServer, Reply
from tests.models.conftest import KINDS, MakeModel
from tests.models.helpers import (
    HISTORY_2,
    capture_retries,
    request,
    wire_history_call_names,
    wire_tool_names,
)

STREAMS = [pytest.param(False, id="json"), pytest.param(True, id="sse")]
kinds = pytest.mark.parametrize("kind", KINDS)
streams = pytest.mark.parametrize("stream", STREAMS)


def comparable(response: ModelResponse) -> dict[str, object]:
    """A response without its latency, for comparing two calls."""
    return response.model_dump(exclude={"latency_ms"})


# --- answers -----------------------------------------------------------------------


@kinds
@streams
async def test_one_tool_call_maps_wire_name_back(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(tool_calls=[FakeCall("todo__create", {"title": "buy milk"}, id="t1")]))
    response = await make_model(kind, stream=stream).complete(request())
    assert response.stop_reason == "tool_use"
    assert len(response.tool_calls) == 1
    call = response.tool_calls[0]
    assert (call.id, call.name, call.arguments, call.arguments_error) == (
        "t1",
        "todo.create",
        {"title": "buy milk"},
        None,
    )
    body = llm_server.requests[0].body
    assert wire_tool_names(kind, body) == ["todo__create", "todo__list"]
    assert llm_server.requests[0].stream is stream


@kinds
@streams
async def test_three_parallel_tool_calls_keep_their_order(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply(
            text="Creating three.",
            tool_calls=[
                FakeCall("todo__create", {"title": "one"}, id="a"),
                FakeCall("todo__list", {}, id="b"),
                FakeCall("todo__create", {"title": "three"}, id="c"),
            ],
        )
    )
    response = await make_model(kind, stream=stream).complete(request())
    assert response.text == "Creating three."
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("a", "todo.create", {"title": "one"}),
        ("b", "todo.list", {}),
        ("c", "todo.create", {"title": "three"}),
    ]


@kinds
@streams
async def test_text_answer_with_usage_and_cost(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply(
            text="Your day is planned.",
            input_tokens=1000,
            output_tokens=200,
            cache_read_tokens=4000,
            cache_write_tokens=500 if kind == "anthropic" else 0,
        )
    )
    response = await make_model(kind, stream=stream).complete(request())
    assert response.text == "Your day is planned."
    assert response.tool_calls == ()
    assert response.stop_reason == "end_turn"
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (1000, 200, 4000)
    if kind == "anthropic":
        assert usage.cache_write_tokens == 500
        expected = (1000 * 3.0 + 200 * 15.0 + 4000 * 0.3 + 500 * 3.75) / 1e6
    else:
        expected = (1000 * 1.25 + 200 * 10.0 + 4000 * 0.125) / 1e6
    assert usage.cost_usd == pytest.approx(expected)
    assert response.model
    assert response.latency_ms > 0


@kinds
@streams
async def test_invented_tool_name_maps_back_as_is(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(tool_calls=[FakeCall("calendar__book", {"at": "9"})]))
    response = await make_model(kind, stream=stream).complete(request())
    assert response.tool_calls[0].name == "calendar.book"


@kinds
@streams
async def test_malformed_tool_json_becomes_arguments_error(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    if kind == "anthropic" and not stream:
        pytest.skip("Anthropic sends tool input as a JSON object; only a stream can break it")
    llm_server.push(
        Reply(
            tool_calls=[
                FakeCall("todo__create", '{"title": "unterminated', id="bad"),
                FakeCall("todo__create", '{"title": "fine"}', id="good"),
            ]
        )
    )
    response = await make_model(kind, stream=stream).complete(request())
    bad, good = response.tool_calls
    assert bad.name == "todo.create"
    assert bad.arguments == {}
    assert bad.arguments_error is not None
    assert bad.arguments_error.startswith("arguments are not valid JSON: ")
    assert (good.arguments, good.arguments_error) == ({"title": "fine"}, None)


@kinds
@streams
async def test_non_object_tool_json_becomes_arguments_error(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    if kind == "anthropic" and not stream:
        pytest.skip("Anthropic sends tool input as a JSON object; only a stream can break it")
    llm_server.push(Reply(tool_calls=[FakeCall("todo__create", '["a", "b"]')]))
    response = await make_model(kind, stream=stream).complete(request())
    assert response.tool_calls[0].arguments == {}
    assert "not a JSON object" in (response.tool_calls[0].arguments_error or "")


@kinds
@streams
async def test_max_tokens_stop(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="I was about to say", stop="max_tokens"))
    response = await make_model(kind, stream=stream, max_tokens=5).complete(request())
    assert response.stop_reason == "max_tokens"
    assert response.text == "I was about to say"
    body = llm_server.requests[0].body
    key = {"anthropic": "max_tokens", "chat": "max_completion_tokens"}.get(
        kind, "max_output_tokens"
    )
    assert body[key] == 5


@kinds
@streams
async def test_refusal_stop(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="I can't help with that.", stop="refusal"))
    response = await make_model(kind, stream=stream).complete(request())
    assert response.stop_reason == "refusal"
    assert response.text == "I can't help with that."


SAME_REPLIES = {
    "text": Reply(text="Plain answer, long enough to be split into several deltas."),
    "tools": Reply(
        text="Two calls.",
        tool_calls=[
            FakeCall("todo__create", {"title": "x", "tags": ["a", "b"], "n": 3}, id="s1"),
            FakeCall("todo__list", {}, id="s2"),
        ],
        input_tokens=321,
        output_tokens=45,
        cache_read_tokens=999,
        cache_write_tokens=11,
    ),
    "max_tokens": Reply(text="cut", stop="max_tokens"),
}


@kinds
@pytest.mark.parametrize("name", sorted(SAME_REPLIES))
async def test_streaming_equals_non_streaming(
    kind: str, name: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    reply = SAME_REPLIES[name]
    if kind != "anthropic":
        reply = Reply(**{**reply.__dict__, "cache_write_tokens": 0})
    llm_server.push(reply, reply)
    plain = await make_model(kind, stream=False).complete(request(HISTORY_2, ("r",)))
    streamed = await make_model(kind, stream=True).complete(request(HISTORY_2, ("r",)))
    assert comparable(streamed) == comparable(plain)
    first, second = llm_server.requests
    assert (first.stream, second.stream) == (False, True)
    assert (
        first.body["messages" if kind != "responses" else "input"]
        == (second.body["messages" if kind != "responses" else "input"])
    )


# --- history on the wire -------------------------------------------------------------


@kinds
async def test_history_tool_calls_go_out_with_wire_names(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="done"))
    await make_model(kind).complete(request(HISTORY_2))
    body = llm_server.requests[0].body
    assert wire_history_call_names(kind, body) == ["todo__list", "todo__create", "todo__create"]
    assert "todo.create" not in json.dumps(body)


# --- retries -------------------------------------------------------------------------


@kinds
@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"retry-after": "0.2"}, 0.2), ({"retry-after-ms": "150", "retry-after": "9"}, 0.15)],
    ids=["retry-after", "retry-after-ms"],
)
async def test_429_honours_retry_after_then_succeeds(
    kind: str,
    headers: dict[str, str],
    wait: float,
    llm_server: FakeLLMServer,
    make_model: MakeModel,
) -> None:
    llm_server.push(Reply.error(429, headers=headers, message="slow down"), Reply(text="ok"))
    with capture_retries() as retries:
        response = await make_model(kind).complete(request())
    assert response.text == "ok"
    assert len(llm_server.requests) == 2
    assert len(retries) == 1
    assert (retries[0].attempt, retries[0].status) == (1, 429)
    assert retries[0].wait_s == pytest.approx(wait)
    assert "slow down" in retries[0].error


@kinds
async def test_overloaded_then_succeeds(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    status = 529 if kind == "anthropic" else 503
    llm_server.push(Reply.error(status), Reply(text="ok"))
    with capture_retries() as retries:
        response = await make_model(kind).complete(request())
    assert response.text == "ok"
    assert [r.status for r in retries] == [status]
    assert 0 < retries[0].wait_s < 0.1


@kinds
@streams
async def test_500_twice_then_succeeds(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply.error(500), Reply.error(500), Reply(text="third time"))
    with capture_retries() as retries:
        response = await make_model(kind, stream=stream).complete(request())
    assert response.text == "third time"
    assert [(r.attempt, r.status) for r in retries] == [(1, 500), (2, 500)]
    assert len(llm_server.requests) == 3
    assert llm_server.requests[0].body == llm_server.requests[2].body


@kinds
@pytest.mark.parametrize("status", [408, 409])
async def test_408_and_409_are_retried(
    kind: str, status: int, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply.error(status), Reply(text="ok"))
    with capture_retries() as retries:
        assert (await make_model(kind).complete(request())).text == "ok"
    assert [r.status for r in retries] == [status]


@kinds
@streams
async def test_connection_reset_then_succeeds(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply.dropped(), Reply(text="ok"))
    with capture_retries() as retries:
        response = await make_model(kind, stream=stream).complete(request())
    assert response.text == "ok"
    assert len(retries) == 1
    assert retries[0].status is None
    assert retries[0].error.startswith(("connection error", "timeout"))


@kinds
async def test_timeout_then_succeeds(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply.slow(1.0, text="too late"), Reply(text="ok"))
    with capture_retries() as retries:
        response = await make_model(kind, timeout_s=0.25).complete(request())
    assert response.text == "ok"
    assert len(retries) == 1
    assert retries[0].status is None
    assert retries[0].error.startswith("timeout")


@kinds
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(
    kind: str, status: int, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply.error(status, message="your request is wrong"), Reply(text="unused"))
    with capture_retries() as retries, pytest.raises(ModelError) as caught:
        await make_model(kind).complete(request())
    assert retries == []
    assert len(llm_server.requests) == 1
    message = str(caught.value)
    provider = {"anthropic": "anthropic", "chat": "openai", "responses": "openai-responses"}[kind]
    assert message.startswith(f"{provider} ")
    assert f"HTTP {status}" in message
    assert "your request is wrong" in message
    assert "not retryable" in message


@kinds
async def test_retries_exhausted_raise_model_error(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(*[Reply.error(502, message="bad gateway")] * 3)
    policy = RetryPolicy(max_attempts=3, initial_wait_s=0.01, max_wait_s=0.01, jitter_s=0)
    with capture_retries() as retries, pytest.raises(ModelError) as caught:
        await make_model(kind, retry=policy).complete(request())
    assert len(llm_server.requests) == 3
    assert [r.attempt for r in retries] == [1, 2]
    assert "HTTP 502" in str(caught.value)
    assert "retries exhausted after 3 attempts" in str(caught.value)


@kinds
async def test_sdk_retries_are_off(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply.error(500), Reply(text="ok"))
    policy = RetryPolicy(max_attempts=1)
    with pytest.raises(ModelError):
        await make_model(kind, retry=policy).complete(request())
    assert len(llm_server.requests) == 1
