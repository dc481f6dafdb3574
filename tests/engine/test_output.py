"""Structured output through the loop with the scripted model: valid, corrected once, invalid
twice, and replay of a structured run."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from planner import StopReason, run_planner_loop
from planner.errors import OutputModelError
from planner.output import OutputCheck, import_output_model, output_ref, strict_compatible
from planner.replay import RecordedRun, replay_run
from planner.state import StopRun
from planner.transcript import FileTranscript, MemoryTranscript, RunFinished, RunStarted
from tests.engine.helpers import call, echo_tool, make_input


class Digest(BaseModel):
    """A short digest of the day."""

    title: str
    items: list[str] = Field(min_length=1)


GOOD = json.dumps({"title": "Tuesday", "items": ["gym", "notes"]})


async def test_a_valid_answer_becomes_the_typed_output() -> None:
    transcript = MemoryTranscript()
    inp, model = make_input(
        [{"tool_calls": [call("demo.echo", text="x")]}, {"text": GOOD}],
        [echo_tool()],
        output_model=Digest,
        transcript=transcript,
    )
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert result.output == Digest(title="Tuesday", items=["gym", "notes"])
    # every request carries the schema, so a provider can enforce it natively
    assert all(r.output is not None and r.output.name == "Digest" for r in model.requests)
    assert model.requests[0].output is not None
    assert model.requests[0].output.json_schema == Digest.model_json_schema()
    assert model.requests[0].output.description == "A short digest of the day."
    started = next(e for e in transcript.events if isinstance(e, RunStarted))
    finished = next(e for e in transcript.events if isinstance(e, RunFinished))
    assert started.output == {
        "name": "Digest",
        "ref": output_ref(Digest),
        "schema": Digest.model_json_schema(),
    }
    assert finished.output == {"title": "Tuesday", "items": ["gym", "notes"]}


async def test_a_fenced_json_answer_validates() -> None:
    inp, _ = make_input([{"text": f"```json\n{GOOD}\n```"}], [], output_model=Digest)
    result = await run_planner_loop(inp)
    assert result.output == Digest(title="Tuesday", items=["gym", "notes"])


async def test_an_invalid_answer_gets_one_correction() -> None:
    bad = json.dumps({"title": "Tuesday", "items": []})
    inp, model = make_input([{"text": bad}, {"text": GOOD}], [], output_model=Digest)
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.ASSISTANT_STOP
    assert result.rounds == 2
    assert result.output == Digest(title="Tuesday", items=["gym", "notes"])
    correction = model.requests[1].messages[-1]
    assert correction.role == "user"
    assert "items" in correction.content and "at least 1 item" in correction.content
    assert [m.role for m in result.messages] == ["user", "assistant", "user", "assistant"]


async def test_invalid_twice_ends_with_output_invalid() -> None:
    transcript = MemoryTranscript()
    inp, model = make_input(
        [{"text": "not json"}, {"text": '{"title": 3}'}, {"text": GOOD}],
        [],
        output_model=Digest,
        transcript=transcript,
    )
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.OUTPUT_INVALID
    assert len(model.requests) == 2
    assert result.output is None
    assert result.error is not None and "Digest" in result.error and "title" in result.error
    assert result.summary == '{"title": 3}'
    finished = next(e for e in transcript.events if isinstance(e, RunFinished))
    assert finished.stop_reason == "output_invalid" and finished.output is None


async def test_a_correction_counts_against_max_rounds() -> None:
    inp, model = make_input(
        [{"text": "nope"}, {"text": GOOD}], [], output_model=Digest, max_rounds=1
    )
    result = await run_planner_loop(inp)
    assert result.stop_reason is StopReason.MAX_ROUNDS
    assert len(model.requests) == 1


async def test_without_an_output_model_nothing_changes() -> None:
    inp, model = make_input([{"text": "plain"}], [])
    result = await run_planner_loop(inp)
    assert result.output is None and model.requests[0].output is None


def test_an_output_model_must_be_a_pydantic_model() -> None:
    inp, _ = make_input([{"text": "{}"}], [], output_model=dict)
    with pytest.raises(OutputModelError, match="not a pydantic model"):
        anyio.run(run_planner_loop, inp)


def test_refs_import_back_and_bad_refs_name_the_problem() -> None:
    assert import_output_model(output_ref(Digest)) is Digest
    with pytest.raises(OutputModelError, match=r"tests\.engine\.nope:Digest: cannot import"):
        import_output_model("tests.engine.nope:Digest")
    with pytest.raises(OutputModelError, match="must look like"):
        import_output_model("Digest")
    with pytest.raises(OutputModelError, match="not a pydantic model"):
        import_output_model("json:dumps")


def test_strict_only_when_every_object_is_closed_and_fully_required() -> None:
    class Closed(BaseModel):
        model_config = {"extra": "forbid"}
        a: int
        b: list[str]

    assert strict_compatible(Closed.model_json_schema())
    assert not strict_compatible(Digest.model_json_schema())


async def test_replay_of_a_corrected_structured_run_is_identical(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with FileTranscript(path) as transcript:
        inp, _ = make_input(
            [{"tool_calls": [call("demo.echo", text="x")]}, {"text": "{}"}, {"text": GOOD}],
            [echo_tool()],
            output_model=Digest,
            transcript=transcript,
        )
        original = await run_planner_loop(inp)
    assert original.rounds == 3
    report = await replay_run(RecordedRun.load(path))
    assert report.identical, report.divergence
    assert report.requests_compared == 3
    assert report.result.output == original.output
    assert report.result.stop_reason is StopReason.ASSISTANT_STOP


@pytest.mark.property
@given(title=st.text(max_size=30), items=st.lists(st.text(max_size=10), min_size=1, max_size=4))
def test_any_valid_value_round_trips_bare_or_fenced(title: str, items: list[str]) -> None:
    value = Digest(title=title, items=items)
    for text in (value.model_dump_json(), f"```json\n{value.model_dump_json(indent=2)}\n```"):
        check = OutputCheck(Digest)
        assert check.judge(text) is None
        assert check.value == value and check.dumped() == value.model_dump(mode="json")


@pytest.mark.property
@given(text=st.text(max_size=80))
def test_any_text_is_accepted_or_corrected_once_then_output_invalid(text: str) -> None:
    check = OutputCheck(Digest)
    correction = check.judge(text)
    if correction is None:
        assert isinstance(check.value, Digest)
        return
    assert correction.role == "user" and "not valid output" in correction.content
    with pytest.raises(StopRun) as stopped:
        check.judge(text)
    assert stopped.value.reason is StopReason.OUTPUT_INVALID
