"""The rating turn: valid, invalid then corrected, invalid twice, model error; never a crash."""

from __future__ import annotations

import json

from personas.rating import RatingOutcome, extract_json, rate_session, session_digest
from planner.messages import Message, ModelRequest, ToolCall
from planner.models.scripted import ScriptedModel, StepFn

HISTORY = [
    Message(role="user", content="Open the app."),
    Message(
        role="assistant",
        tool_calls=(ToolCall(id="c1", name="todo.create", arguments={"title": "milk"}),),
    ),
    Message(role="tool", tool_call_id="c1", name="todo.create", content='{"success":true}'),
    Message(role="assistant", content="Done."),
]
GOOD = {"ratings": {"todo": 4}, "friction": ["slow"], "bugs": [], "comment": "fine"}


async def rate(*answers: str | Exception) -> tuple[RatingOutcome, list[ModelRequest]]:
    def step(answer: str | Exception) -> StepFn:
        def produce(_request: ModelRequest) -> dict[str, str]:
            if isinstance(answer, Exception):
                raise answer
            return {"text": answer}

        return produce

    model = ScriptedModel([step(a) for a in answers])
    outcome = await rate_session(model, "You are Tess.", HISTORY, ["todo"])
    return outcome, model.requests


async def test_valid_answer_in_one_call_without_tools() -> None:
    outcome, requests = await rate(json.dumps(GOOD))
    assert outcome.valid and outcome.attempts == 1
    assert outcome.feedback is not None
    assert outcome.feedback.ratings == {"todo": 4}
    assert len(requests) == 1
    request = requests[0]
    assert request.tools == ()
    assert [m.role for m in request.messages] == ["user"]
    text = request.messages[0].content
    assert "You called todo.create" in text and "todo" in text and "JSON" in text


async def test_invalid_then_corrected() -> None:
    bad = '{"ratings": {"todo": 9}}'
    fenced = "Sure!\n```json\n" + json.dumps(GOOD) + "\n```"
    outcome, requests = await rate(bad, fenced)
    assert outcome.valid and outcome.attempts == 2
    assert outcome.raw == [bad, fenced]
    retry = requests[1].messages
    assert [m.role for m in retry] == ["user", "assistant", "user"]
    assert retry[1].content == bad
    assert "ratings.todo" in retry[2].content and "less than or equal to 5" in retry[2].content


async def test_invalid_twice_is_kept_as_invalid() -> None:
    outcome, requests = await rate("I liked it!", '{"ratings": {}}')
    assert not outcome.valid
    assert outcome.attempts == 2
    assert outcome.raw == ["I liked it!", '{"ratings": {}}']
    assert "missing a rating for the modules used: todo" in (outcome.error or "")
    assert len(requests) == 2


async def test_a_model_error_is_kept_not_raised() -> None:
    outcome, _ = await rate(RuntimeError("provider down"))
    assert not outcome.valid
    assert outcome.error == "model error: RuntimeError: provider down"


def test_extract_json_and_digest() -> None:
    assert extract_json('noise {"a": 1} tail') == '{"a": 1}'
    assert extract_json("```\n{}\n```") == "{}"
    digest = session_digest(HISTORY)
    assert digest.splitlines() == [
        "You were asked: Open the app.",
        'You called todo.create {"title": "milk"}',
        '  -> todo.create: ok: {"success":true}',
        "You said: Done.",
    ]
