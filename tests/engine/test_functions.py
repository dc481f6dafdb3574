"""Tools from typed functions: schemas, docstrings, context injection, sync and async calls."""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from planner import ToolContext, ToolRegistry, ToolSpec, run_planner_loop
from planner.errors import ToolRegistryError
from planner.functions import parse_docstring, tool
from planner.models import ScriptedModel
from tests.engine.helpers import loop_input


class Forecast(BaseModel):
    city: str
    celsius: int


def test_google_numpy_and_sphinx_docstrings_give_the_same_descriptions() -> None:
    google = """Today's forecast.

    Longer text that is not the summary.

    Args:
        city: City name.
        days: Days ahead.
    """
    numpy = """Today's forecast.

    Parameters
    ----------
    city : str
        City name.
    days : int
        Days ahead.
    """
    sphinx = """Today's forecast.

    :param city: City name.
    :param days: Days ahead.
    """
    expected = ("Today's forecast.", {"city": "City name.", "days": "Days ahead."})
    for text in (google, numpy, sphinx):
        assert parse_docstring(text) == expected


def test_the_description_is_the_first_paragraph_joined_on_one_line() -> None:
    summary, params = parse_docstring("Look up\nthe weather.\n\nMore.")
    assert (summary, params) == ("Look up the weather.", {})


# The hand-written twin of what `lookup` below generates (no docstring: it would become the
# schema's description).
class ForecastLookupInput(BaseModel):
    city: str = Field(description="City name, e.g. Lisbon.")
    days: int = Field(1, ge=1, description="Days ahead.")
    unit: str = "C"


async def hand_written_handler(ctx: ToolContext, inp: ForecastLookupInput) -> Forecast:
    return Forecast(city=inp.city, celsius=19)


def test_exported_schemas_equal_a_hand_written_spec_of_the_same_shape() -> None:
    @tool("forecast.lookup", policy_hint="read")
    async def lookup(
        ctx: ToolContext, city: str, days: Annotated[int, Field(ge=1)] = 1, unit: str = "C"
    ) -> Forecast:
        """Today's forecast for a city.

        Args:
            city: City name, e.g. Lisbon.
            days: Days ahead.
        """
        return Forecast(city=city, celsius=19)

    hand = ToolSpec(
        "forecast.lookup",
        "Today's forecast for a city.",
        ForecastLookupInput,
        Forecast,
        hand_written_handler,
        policy_hint="read",
    )
    generated, written = ToolRegistry([lookup]), ToolRegistry([hand])
    assert generated.to_anthropic() == written.to_anthropic()
    assert generated.to_openai() == written.to_openai()
    assert generated.to_openai_responses() == written.to_openai_responses()
    assert generated.to_mcp() == written.to_mcp()
    assert "ctx" not in json.dumps(generated.to_anthropic())
    assert lookup.output_model is Forecast


def test_options_and_the_write_default() -> None:
    def plain(text: str) -> str:
        """Echo."""
        return text

    spec = ToolSpec.from_function(plain)
    assert (spec.name, spec.policy_hint, spec.scope, spec.timeout_s) == (
        "plain",
        "write",
        "user-space",
        30.0,
    )
    admin = ToolSpec.from_function(
        plain, name="ops.echo", policy_hint="destructive", scope="admin", timeout_s=2.5
    )
    assert (admin.name, admin.policy_hint, admin.scope, admin.timeout_s) == (
        "ops.echo",
        "destructive",
        "admin",
        2.5,
    )
    assert admin.description == "Echo."


def test_variadic_parameters_are_refused_with_the_tool_name() -> None:
    def spread(*items: str) -> None:
        """Nope."""

    with pytest.raises(ToolRegistryError, match=r"'spread'.*'items'"):
        ToolSpec.from_function(spread)


async def test_context_is_injected_sync_runs_in_a_thread_and_plain_returns_are_data() -> None:
    seen: dict[str, Any] = {}
    loop_thread = threading.get_ident()

    @tool("notes.count", policy_hint="read")
    def count(context: ToolContext, words: list[str], upper: bool = False) -> dict[str, int]:
        """Count words."""
        seen["thread"] = threading.get_ident()
        seen["space"] = context.space_id
        return {(w.upper() if upper else w): len(w) for w in words}

    @tool("notes.city")
    async def city(name: str) -> Forecast:
        """A forecast as a model."""
        return Forecast(city=name, celsius=3)

    model = ScriptedModel(
        [
            {
                "tool_calls": [
                    {"name": "notes.count", "arguments": {"words": ["ab", "c"], "upper": True}},
                    {"name": "notes.city", "arguments": {"name": "Oslo"}},
                    {"name": "notes.count", "arguments": {"words": "not a list"}},
                ]
            },
            {"text": "done"},
        ]
    )
    result = await run_planner_loop(loop_input(model, [count, city]))
    first, second, bad = result.executed_calls
    assert first.result.success and first.result.data == {"AB": 2, "C": 1}
    assert second.result.data == {"city": "Oslo", "celsius": 3}
    assert not bad.result.success and "words" in bad.result.message
    assert seen["space"] == "s1"
    assert seen["thread"] != loop_thread
    assert "context" not in count.input_schema["properties"]
    assert count.input_schema["required"] == ["words"]
