"""run_mission in process, with a model it builds from a spec, against the fake server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import missions.runner
from missions.app import AppSettings, open_app
from missions.config import load_mission
from missions.runner import run_mission
from planner import StopReason
from planner.models.spec import from_spec
from planner.testing import FakeCall, FakeLLMServer, Reply

REPO = Path(__file__).resolve().parents[2]
MISSION = REPO / "configs/missions/demo-briefing.toml"


async def test_run_mission_closes_the_client_of_the_model_it_built(
    llm_server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-openai-key")
    built: list[Any] = []

    def spy(spec: str, **options: Any) -> Any:
        built.append(from_spec(spec, **options))
        return built[-1]

    monkeypatch.setattr(missions.runner, "from_spec", spy)
    llm_server.push(
        Reply(tool_calls=[FakeCall("demo__weather", {"city": "Lisbon"}, id="w1")]),
        Reply(text="Sunny in Lisbon."),
    )
    settings = AppSettings(var_dir=tmp_path / "var", runs_dir=tmp_path / "runs")
    async with open_app(settings) as app:
        run = await run_mission(
            load_mission(MISSION), app, model_spec="openai:gpt-5-mini", mission_path=MISSION
        )

    assert run.result.stop_reason is StopReason.ASSISTANT_STOP
    assert len(llm_server.requests) == 2
    (model,) = built
    # A scheduler or durable worker runs many missions in one process: each run's HTTP client
    # (and its connection pool) must be closed when the run ends, not left to the GC.
    assert model._client.is_closed()
