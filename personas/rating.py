"""The rating turn: one model call without tools, answered as JSON and validated by pydantic.

An invalid answer gets one corrective retry that quotes the problem; a second invalid answer
(or a model error) is kept as invalid feedback with the raw answers, never raised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from planner import Message, Model, ModelRequest

MAX_ATTEMPTS = 2
Rating = Annotated[int, Field(ge=1, le=5)]
_FENCE_RE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class Feedback(BaseModel):
    """What a persona thinks of the session: ratings per module used, friction, bugs, text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ratings: dict[str, Rating]
    """A 1-5 rating for every module used in the session."""
    friction: list[str] = Field(default_factory=list)
    bugs: list[str] = Field(default_factory=list)
    comment: str = ""

    @field_validator("ratings")
    @classmethod
    def _every_module_used(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        used = (info.context or {}).get("modules") or ()
        missing = [m for m in used if m not in value]
        if missing:
            raise ValueError(f"missing a rating for the modules used: {', '.join(missing)}")
        return value


def rating_prompt(modules: Sequence[str]) -> str:
    """The user message that asks for the JSON rating."""
    names = ", ".join(modules) if modules else "(none: rate nothing, ratings may be {})"
    example = {
        "ratings": {m: 4 for m in modules[:2]} or {},
        "friction": ["what slowed you down"],
        "bugs": ["what looked broken"],
        "comment": "one or two sentences in your own voice",
    }
    return (
        "The session is over. Rate your experience as this person, honestly. "
        f"Give a rating from 1 (awful) to 5 (great) for each module you used: {names}. "
        "List friction points and suspected bugs (empty lists if none). "
        "Answer with one JSON object and nothing else, shaped like:\n"
        + json.dumps(example, ensure_ascii=False)
    )


def extract_json(text: str) -> str:
    """The JSON part of an answer: inside a code fence, else from the first `{` to the last `}`."""
    fenced = _FENCE_RE.search(text)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if start != -1 and end > start else text.strip()


def parse_feedback(text: str, modules: Sequence[str]) -> Feedback:
    """Validate an answer; raises ValidationError with what is wrong."""
    return Feedback.model_validate_json(extract_json(text), context={"modules": list(modules)})


def problem_text(exc: ValidationError) -> str:
    """A short list of what was wrong with an answer, for the corrective message."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ())) or "answer"
        parts.append(f"{loc}: {err.get('msg')}")
    return "; ".join(parts)


@dataclass(frozen=True)
class RatingOutcome:
    """The rating turn's result: feedback when valid, the raw answers always."""

    feedback: Feedback | None
    attempts: int
    raw: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def valid(self) -> bool:
        """True when the answer validated."""
        return self.feedback is not None


DIGEST_CHARS = 300


def session_digest(history: Sequence[Message]) -> str:
    """The session as plain text: what the persona said, called and got back.

    Providers refuse tool-call blocks in a request without tools, so the rating turn reads
    the session as text.
    """
    lines = []
    for m in history:
        if m.role == "user":
            lines.append(f"You were asked: {m.content}")
        elif m.role == "assistant":
            if m.content:
                lines.append(f"You said: {m.content[:DIGEST_CHARS]}")
            for call in m.tool_calls:
                args = json.dumps(call.arguments, ensure_ascii=False)[:DIGEST_CHARS]
                lines.append(f"You called {call.name} {args}")
        elif m.role == "tool":
            status = "error" if m.is_error else "ok"
            lines.append(f"  -> {m.name}: {status}: {m.content[:DIGEST_CHARS]}")
    return "\n".join(lines)


async def rate_session(
    model: Model,
    system_prompt: str,
    history: Sequence[Message],
    modules: Sequence[str],
) -> RatingOutcome:
    """Ask for the rating (one call, no tools); retry once with the problem; never raise."""
    text = f"Here is your session with the app:\n{session_digest(history)}\n\n"
    messages: list[Message] = [Message(role="user", content=text + rating_prompt(modules))]
    raw: list[str] = []
    error: str | None = None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        request = ModelRequest(
            system_prompt=system_prompt, messages=tuple(messages), tools=(), round=attempt
        )
        try:
            response = await model.complete(request)
        except Exception as exc:
            return RatingOutcome(None, attempt, raw, f"model error: {type(exc).__name__}: {exc}")
        raw.append(response.text)
        try:
            return RatingOutcome(parse_feedback(response.text, modules), attempt, raw)
        except ValidationError as exc:
            error = problem_text(exc)
        messages += [
            Message(role="assistant", content=response.text),
            Message(
                role="user",
                content=(
                    f"That answer is not valid: {error}. Reply again with only the JSON object, "
                    "fixed."
                ),
            ),
        ]
    return RatingOutcome(None, MAX_ATTEMPTS, raw, error)


def feedback_dict(feedback: Feedback) -> dict[str, Any]:
    """Feedback as plain data."""
    return feedback.model_dump(mode="json")
