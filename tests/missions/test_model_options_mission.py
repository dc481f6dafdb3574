"""A mission's `[model_options]` and `--model-option` reach the model, checked per provider."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from missions.app import App
from missions.config import load_mission
from missions.errors import MissionConfigError
from missions.runner import run_mission, with_model_options
from planner import StopReason
from planner.errors import ModelOptionError
from planner.testing import FakeLLMServer, Reply

REPO = Path(__file__).resolve().parents[2]
MISSION = """
id = "local-weather"
title = "Weather"
objective = "Weather in Lisbon?"
model = "{model}"
user_id = "ada"
tools = ["demo.weather"]

[model_options]
temperature = 0.25
max_output_tokens = 300
tool_calls_from_text = true
"""


def write(tmp_path: Path, model: str = "openai:qwen2.5-coder", extra: str = "") -> Path:
    path = tmp_path / "local-weather.toml"
    path.write_text(MISSION.format(model=model) + extra)
    return path


async def test_model_options_reach_a_local_server_and_text_calls_run(
    app: App, tmp_path: Path, llm_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm_server.push(
        Reply(text='```json\n{"name": "demo__weather", "arguments": {"city": "Lisbon"}}\n```'),
        Reply(text="Sunny, 19 degrees."),
    )
    path = write(tmp_path)
    cfg = with_model_options(load_mission(path), ["temperature=0.5"])
    run = await run_mission(cfg, app, mission_path=path)
    assert run.result.stop_reason is StopReason.ASSISTANT_STOP
    (weather,) = run.result.executed_calls
    assert weather.result.success and weather.result.data["summary"] == "sunny"
    first = llm_server.requests[0].body
    assert (first["temperature"], first["max_completion_tokens"]) == (0.5, 300)
    assert first["tool_choice"] == "auto"


def test_options_are_checked_for_the_provider_the_run_uses(tmp_path: Path) -> None:
    cfg = load_mission(write(tmp_path))
    with pytest.raises(ModelOptionError, match="model option temperature: anthropic takes 0 to 1"):
        with_model_options(cfg, ["temperature=1.5"], "anthropic:claude-haiku-4-5")
    assert with_model_options(cfg, ["temperature=1.5"]).model_options.temperature == 1.5


def test_a_bad_option_in_the_file_names_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, extra="tool_choise = 'auto'\n")
    with pytest.raises(MissionConfigError, match=r"local-weather.toml: model_options.tool_choise"):
        load_mission(path)


def test_an_option_the_file_s_provider_refuses_fails_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, model="anthropic:claude-haiku-4-5", extra="temperature = 1.5\n")
    path.write_text(path.read_text().replace("temperature = 0.25\n", ""))
    with pytest.raises(
        MissionConfigError, match="model option temperature: anthropic takes 0 to 1"
    ):
        load_mission(path)


def test_run_refuses_a_bad_model_option_before_running(tmp_path: Path) -> None:
    path = write(tmp_path)
    env = {**os.environ, "MANA_VAR_DIR": str(tmp_path / "var")}
    done = subprocess.run(
        [sys.executable, "-m", "mana_planner", "run", str(path), "--model-option", "stream=maybe"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "model option stream" in done.stderr
