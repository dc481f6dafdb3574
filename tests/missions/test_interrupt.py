"""`mana-planner run` stopped by SIGINT/SIGTERM or SIGKILL: what the record, the transcript and
the CLI say, and the printed command resuming it without repeating a saved step."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from planner.transcript import RunFinished, read_transcript

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "mana-planner")
MARKER = "MARKER-7f3a interrupt-me"
SCRIPT = [
    {"tool_calls": [{"name": "todo__create", "arguments": {"title": MARKER}}]},
    {"delay_s": 60, "text": "never sent: the run is interrupted while it waits"},
    {"text": "all done"},
]
MISSION = """
id = "interrupt-me"
title = "Interrupt me"
objective = "Add one to-do and finish."
model = "anthropic:fake-model"
tools = ["todo.*"]
user_id = "u-interrupt"
[limits]
max_rounds = 4
"""


@dataclass
class Home:
    """One test's folder: the fake model server, the mission, the environment of the CLI."""

    path: Path
    count_file: Path
    env: dict[str, str]
    mission: Path

    def requests(self) -> int:
        return int(self.count_file.read_text() or 0) if self.count_file.exists() else 0

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLI, *args], cwd=self.path, env=self.env, capture_output=True, text=True, timeout=120
        )

    def start_run(self, run_id: str) -> subprocess.Popen[str]:
        args = [CLI, "run", str(self.mission), "--run-id", run_id]
        return subprocess.Popen(
            args,
            cwd=self.path,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def todo_titles(self) -> int:
        with sqlite3.connect(self.path / "var" / "mana.db") as conn:
            return int(conn.execute("SELECT COUNT(*) FROM todo").fetchone()[0])


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not (callable(predicate) and predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    script, port_file, count_file = tmp_path / "replies.json", tmp_path / "port", tmp_path / "n"
    script.write_text(json.dumps(SCRIPT))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MANA_", "ANTHROPIC_"))}
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "planner.testing.fake_llm", "--port", "0"),
            *("--port-file", str(port_file), "--script", str(script)),
            *("--count-file", str(count_file)),
        ],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: port_file.exists() and port_file.read_text(), 15, "the fake server")
        mission = tmp_path / "interrupt-me.toml"
        mission.write_text(MISSION)
        env.update(
            ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port_file.read_text()}",
            ANTHROPIC_API_KEY="test-key",
            MANA_HEARTBEAT_S="0.3",
            COLUMNS="200",
        )
        yield Home(tmp_path, count_file, env, mission)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def status_of(home: Home, run_id: str) -> str:
    shown = home.cli("runs", "show", run_id)
    assert shown.returncode == 0, shown.stderr
    rows = dict(line.split("\t", 1) for line in shown.stdout.splitlines() if "\t" in line)
    return rows["status"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_interrupts_the_run_and_the_printed_command_resumes_it(
    home: Home, signum: signal.Signals
) -> None:
    proc = home.start_run("run-int")
    wait_for(lambda: home.requests() >= 2 or proc.poll() is not None, 90, "the second model call")
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    sent = time.monotonic()
    proc.send_signal(signum)
    _out, errors = proc.communicate(timeout=30)
    stopped_s = time.monotonic() - sent
    print(f"{signum.name}: stopped {stopped_s:.2f}s after the signal")

    assert proc.returncode != 0
    assert MARKER not in errors and "ModelRequest" not in errors
    assert status_of(home, "run-int") == "interrupted"
    transcript = home.path / "runs" / "interrupt-me" / "run-int.jsonl"
    events = list(read_transcript(transcript))  # every line a complete event
    assert isinstance(events[-1], RunFinished) and events[-1].stop_reason == "cancelled"
    found = re.search(r"resume it with: (.+)$", errors.strip(), re.MULTILINE)
    assert found, errors
    command = shlex.split(found.group(1))
    assert command[0] == "mana-planner" and command[-2:] == ["--run-id", "run-int"]

    resumed = home.cli(*command[1:])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "all done" in resumed.stdout
    # round 1's model call and its to-do were saved steps: neither ran again; round 2 did
    assert home.requests() == 3
    assert home.todo_titles() == 1
    assert status_of(home, "run-int") == "assistant_stop"
    events = list(read_transcript(transcript))
    assert isinstance(events[-1], RunFinished) and events[-1].stop_reason == "assistant_stop"


def test_a_sigkilled_run_shows_as_orphaned_once_its_process_is_gone(home: Home) -> None:
    proc = home.start_run("run-kill")
    wait_for(lambda: home.requests() >= 2 or proc.poll() is not None, 90, "the second model call")
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    assert status_of(home, "run-kill") == "running"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    wait_for(lambda: status_of(home, "run-kill") == "orphaned", 20, "the run to be orphaned")
    listed = home.cli("runs", "list")
    assert re.search(r"run-kill\tinterrupt-me\t[^\t]+\torphaned", listed.stdout), listed.stdout
