"""Model options on the wire (tool_choice, temperature, max tokens) and tool calls from text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import run_planner_loop
from planner.errors import ModelOptionError
from planner.models import ModelOptions, from_spec
from planner.models.options import adapter_options, parse_pairs
from planner.models.text_calls import call_from_text
from planner.testing import FakeCall, FakeLLMServer, Reply
from planner.transcript import MemoryTranscript, ResponseEvent
from tests.engine.helpers import echo_tool, loop_input
from tests.models.conftest import KINDS, MakeModel
from tests.models.helpers import TOOLS, request

STREAMS = [pytest.param(False, id="json"), pytest.param(True, id="sse")]
kinds = pytest.mark.parametrize("kind", KINDS)
streams = pytest.mark.parametrize("stream", STREAMS)
OPENAI_KINDS = pytest.mark.parametrize("kind", ["chat", "responses"])
TEXT_CALL = '{"name": "todo__create", "arguments": {"title": "milk"}}'


def forced(kind: str, wire: str) -> dict[str, Any]:
    """The wire form of a tool_choice that forces the tool `wire`."""
    if kind == "anthropic":
        return {"type": "tool", "name": wire}
    if kind == "chat":
        return {"type": "function", "function": {"name": wire}}
    return {"type": "function", "name": wire}


# --- tool_choice -------------------------------------------------------------------


@OPENAI_KINDS
@streams
async def test_openai_adapters_send_auto_when_tools_are_offered(
    kind: str, stream: bool, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="ok"), Reply(text="ok"))
    model = make_model(kind, stream=stream)
    await model.complete(request())
    await model.complete(request().model_copy(update={"tools": ()}))
    with_tools, without = (r.body for r in llm_server.requests)
    assert with_tools["tool_choice"] == "auto"
    assert "tool_choice" not in without


async def test_anthropic_sends_no_tool_choice_unless_asked(
    llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text="ok"))
    await make_model("anthropic").complete(request())
    assert "tool_choice" not in llm_server.requests[0].body


@kinds
@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("required", {"anthropic": {"type": "any"}, "chat": "required", "responses": "required"}),
        ("none", {"anthropic": {"type": "none"}, "chat": "none", "responses": "none"}),
        ("todo.create", None),
        ("todo__create", None),
        ("not.offered", {"anthropic": None, "chat": "auto", "responses": "auto"}),
    ],
)
async def test_tool_choice_maps_to_each_provider(
    kind: str,
    choice: str,
    expected: dict[str, Any] | None,
    llm_server: FakeLLMServer,
    make_model: MakeModel,
) -> None:
    llm_server.push(Reply(text="ok"))
    await make_model(kind, tool_choice=choice).complete(request())
    want = forced(kind, "todo__create") if expected is None else expected[kind]
    assert llm_server.requests[0].body.get("tool_choice") == want


@kinds
async def test_neutral_options_from_a_spec_reach_the_wire(
    kind: str, llm_server: FakeLLMServer
) -> None:
    prefix = {"anthropic": "anthropic", "chat": "openai", "responses": "openai-responses"}[kind]
    base = llm_server.base_url if kind == "anthropic" else llm_server.openai_base_url
    model = from_spec(
        f"{prefix}:m",
        api_key="k",
        base_url=base,
        temperature=0.5,
        max_output_tokens=77,
        stream=True,
        tool_choice="required",
    )
    llm_server.push(Reply(text="ok"))
    try:
        await model.complete(request())
    finally:
        await model.aclose()  # type: ignore[attr-defined]
    body = llm_server.requests[0].body
    tokens_key = {
        "anthropic": "max_tokens",
        "chat": "max_completion_tokens",
        "responses": "max_output_tokens",
    }
    assert body["temperature"] == 0.5
    assert body[tokens_key[kind]] == 77
    assert body["stream"] is True
    assert body["tool_choice"] in ("required", {"type": "any"})


# --- validation --------------------------------------------------------------------


def test_anthropic_temperature_range_is_checked_naming_the_option() -> None:
    with pytest.raises(ModelOptionError, match=r"model option temperature: anthropic takes 0 to 1"):
        adapter_options("anthropic", {"temperature": 1.5})
    assert adapter_options("openai", {"temperature": 1.5}) == {"temperature": 1.5}


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"temprature": 0.2}, "temprature"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"temperature": "hot"}, "temperature"),
        ({"stream": "maybe"}, "stream"),
        ({"tool_choice": ""}, "tool_choice"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, Any], option: str) -> None:
    with pytest.raises(ModelOptionError, match=rf"^model option {option}: ") as caught:
        ModelOptions().merged(options)
    assert caught.value.option == option


def test_scripted_models_accept_and_ignore_generation_options(tmp_path: Any) -> None:
    steps = tmp_path / "steps.json"
    steps.write_text('[{"text": "hi"}]')
    model = from_spec(f"scripted:{steps}", temperature=0.1, tool_choice="required")
    assert model.model_id.startswith("scripted:")


def test_key_value_pairs_read_as_toml_values() -> None:
    pairs = ["temperature=0.2", "stream=true", "max_output_tokens=512", "tool_choice=todo.list"]
    assert parse_pairs(pairs) == {
        "temperature": 0.2,
        "stream": True,
        "max_output_tokens": 512,
        "tool_choice": "todo.list",
    }
    with pytest.raises(ModelOptionError, match="KEY=VALUE"):
        parse_pairs(["temperature"])


# --- tool calls written as text ----------------------------------------------------


@kinds
@streams
@pytest.mark.parametrize(
    "text",
    [
        TEXT_CALL,
        f"```json\n{TEXT_CALL}\n```",
        '  {"name": "todo.create", "arguments": "{\\"title\\": \\"milk\\"}"}\n',
    ],
    ids=["bare", "fenced", "dotted-string-arguments"],
)
async def test_a_tool_call_written_as_text_becomes_a_marked_call(
    kind: str, stream: bool, text: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text=text))
    response = await make_model(kind, stream=stream, tool_calls_from_text=True).complete(request())
    assert response.text == ""
    assert response.stop_reason == "tool_use"
    (call,) = response.tool_calls
    assert (call.name, call.arguments, call.from_text) == ("todo.create", {"title": "milk"}, True)


@kinds
@pytest.mark.parametrize(
    "text",
    [
        '{"name": "todo__delete", "arguments": {}}',
        '{"name": "todo__create", "arguments": "{not json"}',
        '{"name": "todo__create", "arguments": [1]}',
        'Here it is: {"name": "todo__create", "arguments": {}}',
        '{"tool": "todo__create"}',
    ],
    ids=["not-offered", "bad-arguments", "array-arguments", "prose-around", "no-name"],
)
async def test_anything_else_stays_text(
    kind: str, text: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text=text))
    response = await make_model(kind, tool_calls_from_text=True).complete(request())
    assert (response.text, response.tool_calls) == (text, ())


@kinds
async def test_without_the_option_json_text_is_the_answer(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(Reply(text=TEXT_CALL))
    response = await make_model(kind).complete(request())
    assert (response.text, response.tool_calls, response.stop_reason) == (TEXT_CALL, (), "end_turn")


async def test_native_calls_win_over_text(llm_server: FakeLLMServer, make_model: MakeModel) -> None:
    llm_server.push(Reply(text=TEXT_CALL, tool_calls=[FakeCall("todo__list", {}, id="n1")]))
    response = await make_model("chat", tool_calls_from_text=True).complete(request())
    assert [(c.id, c.from_text) for c in response.tool_calls] == [("n1", False)]


@given(st.text(max_size=200))
@settings(max_examples=60, deadline=None)
def test_text_that_is_no_call_is_never_read_as_one(text: str) -> None:
    call = call_from_text(text, TOOLS)
    if call is not None:
        assert call.name in {t.name for t in TOOLS}
        assert call.from_text


@pytest.mark.parametrize("kind", ["chat", "anthropic"])
async def test_the_loop_runs_a_text_call_and_the_transcript_marks_it(
    kind: str, llm_server: FakeLLMServer, make_model: MakeModel
) -> None:
    llm_server.push(
        Reply(text='{"name": "demo__echo", "arguments": {"text": "hi"}}'), Reply(text="done")
    )
    transcript = MemoryTranscript()
    model = make_model(kind, tool_calls_from_text=True)
    result = await run_planner_loop(loop_input(model, [echo_tool()], transcript=transcript))
    assert result.summary == "done"
    (executed,) = result.executed_calls
    assert executed.result.success
    responses = [e for e in transcript.events if isinstance(e, ResponseEvent)]
    assert [c.from_text for c in responses[0].tool_calls] == [True]
    # The next request carries the call and its result in the provider's own shape.
    second = json.dumps(llm_server.requests[1].body)
    assert responses[0].tool_calls[0].id in second
