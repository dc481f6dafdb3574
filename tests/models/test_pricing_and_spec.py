"""The price table and from_spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from planner.errors import ConfigError, MissingApiKeyError
from planner.messages import Usage
from planner.models import (
    AnthropicModel,
    OpenAIChatModel,
    OpenAIResponsesModel,
    ScriptedModel,
    from_spec,
)
from planner.models.pricing import (
    DEFAULT_PRICES_PATH,
    CostMeter,
    ModelPrice,
    load_prices,
    price_table,
)

USAGE = Usage(
    input_tokens=1_000_000, output_tokens=100_000, cache_read_tokens=0, cache_write_tokens=0
)


def test_the_shipped_table_prices_current_models() -> None:
    table = load_prices(DEFAULT_PRICES_PATH)
    for model in ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5", "gpt-5", "gpt-4o"):
        assert table.lookup(model) is not None, model
    sonnet = table.lookup("claude-sonnet-4-5")
    assert sonnet is not None
    assert sonnet.cost(USAGE) == pytest.approx(3.0 + 1.5)


def test_dated_snapshots_use_the_undated_price() -> None:
    table = price_table({"gpt-4o": ModelPrice(2.5, 10), "gpt-4o-mini": ModelPrice(0.15, 0.6)})
    assert table.lookup("gpt-4o-2024-08-06") == ModelPrice(2.5, 10)
    assert table.lookup("gpt-4o-mini-2024-07-18") == ModelPrice(0.15, 0.6)
    assert table.lookup("gpt-4o-audio") is None


def test_unknown_model_costs_zero_and_warns_once() -> None:
    meter = CostMeter("mystery-model", price_table({}))
    with capture_logs() as logs:
        first = meter.priced(USAGE.model_copy(update={"cost_usd": 9.0}))
        meter.priced(USAGE)
    assert first.cost_usd == 0.0
    warnings = [e for e in logs if e["event"] == "model.price_unknown"]
    assert len(warnings) == 1
    assert warnings[0]["model"] == "mystery-model"


def test_reported_model_is_a_fallback() -> None:
    meter = CostMeter("alias", price_table({"real-1": ModelPrice(1, 1)}))
    assert meter.priced(USAGE, "real-1").cost_usd == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[models\n", "cannot read"),
        ('[models."m"]\ninput = 1\nouput = 2\n', "unknown keys"),
        ('[models."m"]\ninput = "cheap"\noutput = 2\n', "models.'m'"),
        ("models = 3\n", "must be a table"),
    ],
)
def test_bad_price_files_are_config_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        load_prices(path)


# --- from_spec -----------------------------------------------------------------------


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "a-key")
    monkeypatch.setenv("OPENAI_API_KEY", "o-key")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        ("anthropic:claude-sonnet-4-5", AnthropicModel),
        ("openai:gpt-5", OpenAIChatModel),
        ("openai-responses:gpt-5", OpenAIResponsesModel),
    ],
)
async def test_provider_specs(spec: str, cls: type[Any]) -> None:
    model: Any = from_spec(spec, stream=True, max_tokens=99)
    assert isinstance(model, cls)
    assert model.model_id == spec
    assert model.stream is True
    assert model.max_tokens == 99
    await model.aclose()


@pytest.mark.parametrize(
    ("spec", "variable"),
    [
        ("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
        ("openai:gpt-5", "OPENAI_API_KEY"),
        ("openai-responses:gpt-5", "OPENAI_API_KEY"),
    ],
)
def test_missing_key_names_the_variable(
    spec: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingApiKeyError) as caught:
        from_spec(spec)
    assert caught.value.variable == variable
    assert variable in str(caught.value)


def test_scripted_spec(tmp_path: Path) -> None:
    path = tmp_path / "steps.json"
    path.write_text('[{"text": "hi"}]')
    model = from_spec(f"scripted:{path}")
    assert isinstance(model, ScriptedModel)
    assert model.model_id == f"scripted:{path}"


def test_replay_spec_loads_the_transcript(monkeypatch: pytest.MonkeyPatch) -> None:
    from planner.models import replay

    seen: list[str] = []

    def fake_from_transcript(file: str) -> ScriptedModel:
        seen.append(file)
        return ScriptedModel([])

    monkeypatch.setattr(replay.ReplayModel, "from_transcript", fake_from_transcript)
    from_spec("replay:runs/abc.jsonl")
    assert seen == ["runs/abc.jsonl"]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("gemini:pro", "unknown prefix 'gemini'"),
        ("claude-sonnet-4-5", "must look like PREFIX:NAME"),
        ("anthropic:", "must look like PREFIX:NAME"),
    ],
)
def test_bad_specs_are_config_errors(spec: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        from_spec(spec)
