"""The CLI root: lazy mounts, one place for the packages' errors, `--version`."""

from __future__ import annotations

import gc
import importlib
import json
import os
import sqlite3
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mana_planner.cli import (
    ERROR_BASES,
    MOUNTS,
    RootGroup,
    app,
    known_error,
    one_line,
    start_collecting,
)
from mana_planner.lazy import load
from missions.system_db import SQLITE_FILE
from planner.errors import ConfigError, TranscriptError
from planner.transcript import RunFinished, read_transcript

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("dbos", "mcp", "anthropic", "openai", "sqlalchemy", "starlette", "uvicorn")


def imported_by(
    args: list[str], tmp_path: Path
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Top-level packages a real `python -m mana_planner ARGS` process imported."""
    env = {**os.environ, "MANA_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(ROOT)}
    env.pop("MANA_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mana_planner", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return names, done


def test_help_imports_no_package_implementation(tmp_path: Path) -> None:
    names, done = imported_by(["--help"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "runs" in done.stdout and "personas" in done.stdout
    assert "typer" in names, "the importtime listing must be read"
    assert not names & set(HEAVY), sorted(names & set(HEAVY))
    assert not names & {"missions", "personas", "gateway", "toolkits", "reminders"}


def test_no_arguments_print_the_help(tmp_path: Path) -> None:
    names, done = imported_by([], tmp_path)
    assert done.returncode == 2
    assert done.stdout.startswith("Usage: mana-planner") and "personas" in done.stdout
    assert not names & set(HEAVY)


def test_runs_list_needs_no_durable_engine_server_or_model_sdk(tmp_path: Path) -> None:
    names, done = imported_by(["runs", "list"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sqlalchemy" in names, "the command read the run store"
    assert not names & {"dbos", "mcp", "anthropic", "openai", "starlette", "uvicorn"}


def one_round_run(tmp_path: Path) -> list[str]:
    """`run` arguments of a one-round scripted mission (no tool source, no model SDK)."""
    steps, mission = tmp_path / "steps.json", tmp_path / "one-round.toml"
    steps.write_text(json.dumps([{"text": "done"}]))
    mission.write_text(
        f'id = "one-round"\ntitle = "One round"\nobjective = "Say done."\n'
        f'model = "scripted:{steps}"\ntools = ["todo.list"]\nuser_id = "u-one"\n'
    )
    return ["run", str(mission), "--runs-dir", str(tmp_path / "runs")]


def test_a_scripted_run_needs_no_mcp_or_model_sdk_and_exits_with_its_records_complete(
    tmp_path: Path,
) -> None:
    names, done = imported_by(one_round_run(tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "dbos" in names
    assert not names & {"mcp", "anthropic", "openai", "starlette", "uvicorn"}
    (transcript,) = (tmp_path / "runs" / "one-round").glob("*.jsonl")
    last = list(read_transcript(transcript))[-1]
    assert isinstance(last, RunFinished) and last.stop_reason == "assistant_stop"
    with sqlite3.connect(tmp_path / "var" / "mana.db") as db:
        rows = db.execute(
            "select id, finished_at, stop_reason, rounds from mission_runs"
        ).fetchall()
    assert [(r[0], r[2], r[3]) for r in rows] == [(transcript.stem, "assistant_stop", 1)]
    assert rows[0][1] is not None
    with sqlite3.connect(tmp_path / "var" / SQLITE_FILE) as db:
        status = db.execute("select workflow_uuid, status from workflow_status").fetchall()
    assert status == [(transcript.stem, "SUCCESS")]


def test_the_collector_runs_again_once_the_root_has_mounted_a_command() -> None:
    seen: list[bool] = []
    probe_app = typer.Typer(cls=RootGroup)

    @probe_app.command()
    def probe() -> None:
        seen.append(gc.isenabled())

    @probe_app.command()
    def other() -> None:
        """A second command keeps the app a group."""

    frozen = gc.get_freeze_count()
    gc.disable()  # as main() does while the command's package is imported
    try:
        assert CliRunner().invoke(probe_app, ["probe"]).exit_code == 0
        assert seen == [True] and gc.get_freeze_count() > frozen
    finally:
        gc.enable()
        gc.unfreeze()


def test_with_the_collector_on_nothing_is_frozen() -> None:
    frozen = gc.get_freeze_count()
    start_collecting()
    assert gc.isenabled() and gc.get_freeze_count() == frozen


@pytest.mark.parametrize("mount", MOUNTS, ids=lambda m: m.name)
def test_each_mount_loads_the_command_it_lists(mount: object) -> None:
    from mana_planner.lazy import Mount

    assert isinstance(mount, Mount)
    command = load(mount)
    assert command is not None, f"{mount.loader} registered no {mount.name!r}"
    assert (command.help or "").strip().splitlines()[0] == mount.help


def test_version_is_the_installed_one() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"mana-planner {version('mana-planner')}"


def test_every_error_base_exists() -> None:
    for module, name in ERROR_BASES:
        base = getattr(importlib.import_module(module), name)
        assert issubclass(base, Exception), (module, name)


def test_package_errors_are_known_and_others_are_not() -> None:
    from personas.errors import PersonaConfigError
    from toolkits.errors import StoreError

    assert known_error(ConfigError("x")) and known_error(StoreError("db"))
    assert known_error(PersonaConfigError("p.toml: id: missing"))
    assert not known_error(ValueError("x")) and not known_error(KeyError("x"))
    assert one_line(ConfigError("a.toml: x: bad\n  b.toml: y: bad\n")) == (
        "a.toml: x: bad; b.toml: y: bad"
    )


def test_a_package_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    result = CliRunner().invoke(app, ["replay", str(bad)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.jsonl:1" in lines[0]


def test_other_exceptions_are_not_swallowed() -> None:
    crash = typer.Typer(cls=RootGroup)

    @crash.command()
    def boom() -> None:
        raise KeyError("not ours")

    @crash.command()
    def transcript() -> None:
        raise TranscriptError("t.jsonl:3: not JSON")

    runner = CliRunner()
    unknown = runner.invoke(crash, ["boom"])
    assert isinstance(unknown.exception, KeyError)
    known = runner.invoke(crash, ["transcript"])
    assert known.exit_code == 2 and "error: t.jsonl:3: not JSON" in known.output
