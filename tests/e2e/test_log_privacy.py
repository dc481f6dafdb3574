"""A marker in a to-do never reaches stderr: run, interrupt, resume, serve through the gateway.

Every process runs at `--log-level debug` with DBOS at DEBUG too, stderr piped (so JSON lines):
the most a user can turn up without `--log-content`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gateway.gw_helpers import connect

ROOT = Path(__file__).resolve().parents[2]
MARKER = "zqx-private-7f3a9c"
ROUNDS = 300


def mission(tmp: Path) -> Path:
    steps = tmp / "steps.json"
    steps.write_text(
        json.dumps(
            [
                {"tool_calls": [{"name": "todo.create", "arguments": {"title": MARKER}}]},
                *[{"tool_calls": [{"name": "todo.list", "arguments": {}}]}] * ROUNDS,
                {"text": "done"},
            ]
        )
    )
    path = tmp / "privacy.toml"
    path.write_text(
        f"""id = "privacy"
title = "Privacy"
objective = "Keep a to-do and read the list."
model = "scripted:{steps}"
tools = ["todo.create", "todo.list"]
user_id = "demo"
mode = "execute"

[limits]
max_rounds = {ROUNDS + 5}
max_tool_calls = {ROUNDS + 5}
"""
    )
    return path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mana_planner", "--log-level", "debug", *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    scrubbed = {k: v for k, v in os.environ.items() if k not in {"MANA_DATABASE_URL"}}
    return {
        **scrubbed,
        "MANA_VAR_DIR": str(tmp_path / "var"),
        "MANA_DBOS_LOG_LEVEL": "DEBUG",
        "MANA_JWKS_URL": "",
        "PYTHONPATH": str(ROOT),
    }


async def test_the_marker_never_reaches_stderr(tmp_path: Path, env: dict[str, str]) -> None:
    path, runs = mission(tmp_path), tmp_path / "runs"
    run_id = "privacy-run-1"
    transcript = runs / "privacy" / f"{run_id}.jsonl"
    args = cli("run", str(path), "--run-id", run_id, "--runs-dir", str(runs))
    first_err = tmp_path / "first.err"
    with first_err.open("w") as sink:  # a file, not a pipe: debug output would fill a pipe
        first = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sink)
        wait_for(
            lambda: (
                first.poll() is not None
                or (transcript.exists() and transcript.read_text().count('"tool_result"') > 20)
            ),
            90,
            "a few rounds in the transcript",
        )
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    assert transcript.read_text().count('"tool_result"') < ROUNDS, "interrupted mid-run"
    resumed = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert MARKER in transcript.read_text(), "the marker was in the run's data"

    port = free_port()
    served_err = tmp_path / "gateway.err"
    with served_err.open("w") as sink:
        gateway = subprocess.Popen(
            cli("gateway", "--port", str(port), "--log-level", "debug"),
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sink,
        )  # fmt: skip
        try:
            token = subprocess.run(
                cli("auth", "token", "--user", "demo"),
                cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60,
            ).stdout.strip()  # fmt: skip
            wait_for(lambda: "MCP gateway on" in served_err.read_text(), 60, "the gateway")
            wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 60, "port")
            async with connect(f"http://127.0.0.1:{port}/mcp", token, "2026-07-28") as client:
                listed = await client.call_tool("todo.list", {})
        finally:
            gateway.send_signal(signal.SIGINT)
            gateway.wait(timeout=30)
    assert MARKER in json.dumps(listed.model_dump(mode="json")), "the gateway served it"

    for name, text in [
        ("interrupted run", first_err.read_text()),
        ("resumed run", resumed.stderr),
        ("gateway", served_err.read_text()),
    ]:
        assert text.strip(), f"{name}: debug logging wrote nothing to check"
        assert MARKER not in text, f"{name} logged the marker:\n{text[-3000:]}"
