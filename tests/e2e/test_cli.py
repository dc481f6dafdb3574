"""`mana-planner run` in subprocesses, each adapter aimed at the fake server by SDK env vars.

The four runs (one per adapter, plus one the server answers with a 400) start together in one
module fixture, to keep the folder fast on two cores. The fake server answers them from one
stateless rule, so their order does not matter; each run is told apart by its API path, and the
failing one by its model id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from planner.testing import FakeCall, FakeLLMServer, RecordedRequest, Reply
from planner.transcript import (
    Header,
    RequestEvent,
    RunFinished,
    RunStarted,
    ToolResultEvent,
    read_transcript,
)
from tests.e2e.wire import tool_results
from tests.models.helpers import wire_tool_names as tool_names

REPO = Path(__file__).resolve().parents[2]
MISSION = "configs/missions/demo-briefing.toml"
SPECS = {
    "anthropic": "anthropic:claude-haiku-4-5",
    "chat": "openai:gpt-5-mini",
    "responses": "openai-responses:gpt-5-mini",
    "bad-request": "openai-responses:gpt-5-nano",
}
FAILING_MODEL = "gpt-5-nano"
ANSWER = "Berlin has light rain at 9 degrees."
# Anything in the caller's environment that could send the SDKs or the app elsewhere.
SCRUBBED = (
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_PROFILE",
    "ANTHROPIC_CONFIG_DIR",
    "ANTHROPIC_CUSTOM_HEADERS",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "POLICY_MODE",
    "MANA_DATABASE_URL",
)


def reply_for(request: RecordedRequest) -> Reply:
    """Call demo.weather first; answer once its result (call id w1) is in the history."""
    if request.body.get("model") == FAILING_MODEL:
        return Reply.error(400, message="model: unknown model")
    if "w1" in json.dumps(request.body):
        return Reply(text=ANSWER)
    return Reply(
        text="Checking the weather.",
        tool_calls=[FakeCall("demo__weather", {"city": "Berlin"}, id="w1")],
    )


@dataclass(frozen=True)
class CliRun:
    """One finished `mana-planner run` and the requests the server saw from it."""

    kind: str
    api: str
    returncode: int
    stdout: str
    stderr: str
    runs_dir: Path
    bodies: list[dict[str, Any]]

    def transcript(self) -> list[Any]:
        """The events of the one transcript the run wrote."""
        files = list((self.runs_dir / "demo-briefing").glob("*.jsonl"))
        assert len(files) == 1, files
        return list(read_transcript(files[0]))


def start_cli(server: FakeLLMServer, kind: str, home: Path) -> subprocess.Popen[str]:
    """`python -m mana_planner run MISSION --model SPEC --runs-dir HOME/runs`, against the fake.

    The app's SQLite store and key vault go to HOME/var.
    """
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        MANA_VAR_DIR=str(home / "var"),
        ANTHROPIC_BASE_URL=server.base_url,
        OPENAI_BASE_URL=server.openai_base_url,
        ANTHROPIC_API_KEY="test-anthropic-key",
        OPENAI_API_KEY="test-openai-key",
        COLUMNS="200",
    )
    args = [sys.executable, "-m", "mana_planner", "run", MISSION, "--model", SPECS[kind]]
    args += ["--runs-dir", str(home / "runs")]
    return subprocess.Popen(
        args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture(scope="module")
def cli_runs(
    llm_server_session: FakeLLMServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, CliRun]]:
    """All four runs, started together, finished before any test looks at them."""
    server = llm_server_session
    server.reset()
    server.default = reply_for
    homes = {kind: tmp_path_factory.mktemp(f"cli-{kind}") for kind in SPECS}
    procs = {kind: start_cli(server, kind, homes[kind]) for kind in SPECS}
    outputs = {}
    try:
        for kind, proc in procs.items():
            outputs[kind] = proc.communicate(timeout=90)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    requests = list(server.requests)
    server.reset()
    apis = {"anthropic": "anthropic", "chat": "chat", "responses": "responses"}
    runs = {}
    for kind, (out, err) in outputs.items():
        api = apis.get(kind, "responses")
        model = SPECS[kind].partition(":")[2]
        bodies = [r.body for r in requests if r.api == api and r.body.get("model") == model]
        code = procs[kind].returncode
        runs[kind] = CliRun(kind, api, code, out, err, homes[kind] / "runs", bodies)
    yield runs


@pytest.mark.parametrize("kind", ["anthropic", "chat", "responses"])
def test_run_mission_through_each_adapter(kind: str, cli_runs: dict[str, CliRun]) -> None:
    run = cli_runs[kind]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "assistant_stop" in run.stdout
    assert ANSWER in run.stdout

    assert len(run.bodies) == 2
    first, second = run.bodies
    assert sorted(tool_names(run.api, first)) == [
        "demo__calendar",
        "demo__memo",
        "demo__weather",
        "task",
    ]
    (result,) = tool_results(run.api, second)
    assert result.call_id == "w1"
    assert result.body == {
        "success": True,
        "message": "ok",
        "data": {"city": "Berlin", "summary": "light rain", "celsius": 9},
    }

    events = run.transcript()
    assert isinstance(events[0], Header)
    started = events[1]
    assert isinstance(started, RunStarted) and started.model == SPECS[kind]
    assert sum(isinstance(e, RequestEvent) for e in events) == 2
    assert [e.name for e in events if isinstance(e, ToolResultEvent)] == ["demo.weather"]
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    assert finished.stop_reason == "assistant_stop"
    assert finished.summary == ANSWER
    assert finished.rounds == 2 and finished.tool_calls == 1
    assert finished.usage.input_tokens == 24  # the fake's 12 per response


def test_run_exits_1_on_a_bad_request(cli_runs: dict[str, CliRun]) -> None:
    run = cli_runs["bad-request"]
    assert run.returncode == 1, run.stdout + run.stderr
    assert "model_error" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert len(run.bodies) == 1  # a 400 is never retried

    finished = run.transcript()[-1]
    assert isinstance(finished, RunFinished)
    assert finished.stop_reason == "model_error"
    assert finished.rounds == 1
    assert finished.error is not None
    assert "HTTP 400" in finished.error and "model: unknown model" in finished.error
