"""Structured output: a run's final answer validated into a pydantic model.

The loop sends the model's JSON schema with every request (`ModelRequest.output`); adapters
turn it into the provider's native structured output. A text answer that fails the model gets
one corrective round (a user message naming the problems); failing again ends the run with
`output_invalid`.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel, ValidationError

from planner.errors import OutputModelError
from planner.messages import Message, OutputSchema
from planner.models.text_calls import FENCE
from planner.state import StopReason, StopRun

MAX_CORRECTIONS = 1
MAX_PROBLEMS = 5
CORRECTION = (
    "Your final answer is not valid output: {problems}. Answer again with only a JSON value "
    "that matches the required output schema, and nothing else."
)


def output_ref(model: type[BaseModel]) -> str:
    """`module:QualName`, the import reference a transcript keeps for replay."""
    return f"{model.__module__}:{model.__qualname__}"


def import_output_model(ref: str) -> type[BaseModel]:
    """The pydantic model class `module:QualName` names; OutputModelError when it cannot be."""
    module_name, sep, qualname = ref.partition(":")
    if not sep or not module_name or not qualname:
        raise OutputModelError(ref, "must look like pkg.module:Model")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise OutputModelError(ref, f"cannot import: {type(exc).__name__}: {exc}") from exc
    return checked_model(target, ref)


def checked_model(target: object, ref: str) -> type[BaseModel]:
    """`target` when it is a pydantic model class; OutputModelError naming `ref` otherwise."""
    if not (isinstance(target, type) and issubclass(target, BaseModel)):
        raise OutputModelError(ref, f"is a {type(target).__name__}, not a pydantic model class")
    return target


def strict_compatible(schema: Any) -> bool:
    """True when every object in `schema` closes its properties and requires all of them
    (OpenAI's strict mode rejects any other schema)."""
    if isinstance(schema, list):
        return all(strict_compatible(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False or set(
            schema.get("required", ())
        ) != set(props):
            return False
    return all(strict_compatible(value) for value in schema.values())


def output_schema(model: type[BaseModel]) -> OutputSchema:
    """The neutral schema a request carries for `model`."""
    schema = model.model_json_schema()
    description = (model.__doc__ or "").strip().split("\n\n")[0] if model.__doc__ else ""
    return OutputSchema(
        name=model.__name__,
        json_schema=schema,
        description=" ".join(description.split()),
        strict=strict_compatible(schema),
    )


def answer_json(text: str) -> str:
    """The JSON part of an answer: the text, or the body of a ```json fence around it."""
    body = text.strip()
    fenced = FENCE.match(body)
    return fenced.group("body").strip() if fenced else body


def problems(exc: ValidationError) -> str:
    """A short, model-readable list of what failed."""
    parts = []
    for err in exc.errors()[:MAX_PROBLEMS]:
        loc = ".".join(str(x) for x in err.get("loc", ())) or "answer"
        parts.append(f"{loc}: {err.get('msg')}")
    more = exc.error_count() - MAX_PROBLEMS
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


class OutputCheck:
    """A run's output model (or None for a plain text answer) and what it has validated."""

    def __init__(self, model: type[BaseModel] | None) -> None:
        self.model = None if model is None else checked_model(model, repr(model))
        self.schema = None if self.model is None else output_schema(self.model)
        self.value: BaseModel | None = None
        self.corrections = 0

    def info(self) -> dict[str, Any] | None:
        """What run_started records: name, import ref and schema."""
        if self.model is None or self.schema is None:
            return None
        return {
            "name": self.schema.name,
            "ref": output_ref(self.model),
            "schema": self.schema.json_schema,
        }

    def dumped(self) -> Any:
        """The validated value as JSON data (None until there is one)."""
        return None if self.value is None else self.value.model_dump(mode="json")

    def judge(self, text: str) -> Message | None:
        """Validate a final answer: None when it is good (or no model is asked for), else the
        corrective user message; a failure after the correction raises StopRun."""
        if self.model is None:
            return None
        try:
            self.value = self.model.model_validate_json(answer_json(text))
        except ValidationError as exc:
            found = problems(exc)
            if self.corrections >= MAX_CORRECTIONS:
                error = f"the answer does not validate as {self.model.__name__}: {found}"
                raise StopRun(StopReason.OUTPUT_INVALID, error) from exc
            self.corrections += 1
            return Message(role="user", content=CORRECTION.format(problems=found))
        return None


def recorded_output_model(info: dict[str, Any] | None) -> type[BaseModel] | None:
    """The output model a transcript's run_started names (imported by its ref), or None."""
    if not info:
        return None
    return import_output_model(str(info.get("ref", "")))
