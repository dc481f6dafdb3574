"""The CLI root: lazy mounts, one place for the packages' errors, `--version`."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mana_planner.cli import ERROR_BASES, MOUNTS, RootGroup, app, known_error, one_line
from mana_planner.lazy import load
from planner.errors import ConfigError, TranscriptError

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
    assert not names & {"dbos", "mcp", "anthropic", "starlette", "uvicorn"}


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
