"""Mission checks beyond the schema: tool patterns and policy names against the known tools,
model files that exist; `missions validate` and `run` print them, one line each."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mana_planner.cli import app
from missions.app import tool_catalog
from missions.checks import check_mission, preflight
from missions.config import load_mission
from missions.errors import MissionConfigError
from planner import ToolRegistry

ROOT = Path(__file__).resolve().parents[2]
BASE = """
id = "chk"
title = "t"
objective = "o"
model = "openai:gpt-5-mini"
user_id = "u"
"""
SOURCE = '[[tool_sources]]\nurl = "http://127.0.0.1:9/mcp"\n'


@pytest.fixture(scope="module")
def catalog() -> ToolRegistry:
    return tool_catalog()


def mission_file(tmp_path: Path, text: str, name: str = "m.toml") -> Path:
    path = tmp_path / name
    path.write_text(BASE + text)
    return path


def errors_of(path: Path, catalog: ToolRegistry) -> tuple[str, ...]:
    return check_mission(load_mission(path), path, catalog).errors


def test_shipped_missions_pass_every_check(catalog: ToolRegistry) -> None:
    for path in sorted((ROOT / "configs" / "missions").glob("*.toml")):
        found = check_mission(load_mission(path), path, catalog)
        assert found.errors == () and found.warnings == (), path


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            'tools = ["jurnal.add"]',
            "tools: 'jurnal.add' matches no known tool; did you mean 'journal.add' or 'journal.*'?",
        ),
        ('tools = ["todo.*", "habbits.*"]', "tools: 'habbits.*' matches no known tool; did you"),
        ('tools = ["zzz"]', "tools: 'zzz' matches no known tool"),
        (
            '[policy]\nrate_limits = { "todo.craete" = 3 }',
            "policy.rate_limits: 'todo.craete' is not the name of a known tool; did you mean "
            "'todo.create'",
        ),
        ('[policy]\nallow_destructive = ["todo.*"]', "policy.allow_destructive: 'todo.*' is not"),
        (
            '[[subagents]]\nname = "r"\ndescription = "d"\ntools = ["note.search"]',
            "subagents.0.tools: 'note.search' matches no known tool; did you mean 'notes.search'",
        ),
        ('model = "scripted:steps.json"', "model: scripted steps file {dir}/steps.json does not"),
        ('model = "replay:old.jsonl"', "model: transcript {dir}/old.jsonl does not exist"),
    ],
)
def test_each_problem_is_one_line_naming_file_and_field(
    tmp_path: Path, catalog: ToolRegistry, text: str, line: str
) -> None:
    body = BASE.replace('model = "openai:gpt-5-mini"\n', "") if text.startswith("model") else BASE
    path = tmp_path / "m.toml"
    path.write_text(body + text + "\n")
    (error,) = check_mission(load_mission(path), path, catalog).errors
    assert error.startswith(f"{path}: {line.format(dir=tmp_path)}")


def test_an_existing_steps_file_passes_and_an_override_skips_the_check(
    tmp_path: Path, catalog: ToolRegistry
) -> None:
    path = mission_file(tmp_path, "").with_name("m.toml")
    path.write_text(BASE.replace("openai:gpt-5-mini", "scripted:s.json"))
    with pytest.raises(MissionConfigError, match=r"m\.toml: model: scripted steps file"):
        preflight(path, catalog)
    cfg, warnings = preflight(path, catalog, model_override="openai:gpt-5")
    assert cfg.id == "chk" and warnings == ()
    (tmp_path / "s.json").write_text("[]")
    assert errors_of(path, catalog) == ()


def test_task_is_known_when_the_mission_has_subagents(
    tmp_path: Path, catalog: ToolRegistry
) -> None:
    path = mission_file(tmp_path, 'tools = ["todo.list", "task"]\n')
    assert "'task' matches no known tool" in errors_of(path, catalog)[0]
    path.write_text(BASE + 'tools = ["todo.list", "task"]\nsubagents = ["research"]\n')
    assert errors_of(path, catalog) == ()


def test_tool_sources_turn_unknown_patterns_into_warnings(
    tmp_path: Path, catalog: ToolRegistry
) -> None:
    path = mission_file(tmp_path, 'tools = ["weather.*"]\n' + SOURCE)
    found = check_mission(load_mission(path), path, catalog)
    assert found.errors == ()
    (warning,) = found.warnings
    assert warning.startswith(f"{path}: tools: 'weather.*' matches no built-in or module tool")
    assert "[[tool_sources]]" in warning


def test_a_prefixed_source_only_excuses_patterns_under_its_prefix(
    tmp_path: Path, catalog: ToolRegistry
) -> None:
    source = SOURCE + 'prefix = "remote"\n'
    path = mission_file(tmp_path, 'tools = ["remote.todo.*", "rem*", "jurnal.add"]\n' + source)
    found = check_mission(load_mission(path), path, catalog)
    assert [w.split(": ")[2] for w in found.warnings] == [
        "'remote.todo.*' matches no built-in or module tool; not checked, since tools of "
        "[[tool_sources]] are known only when a run connects",
        "'rem*' matches no built-in or module tool; not checked, since tools of "
        "[[tool_sources]] are known only when a run connects",
    ]
    (error,) = found.errors
    assert "'jurnal.add' matches no known tool; did you mean 'journal.add'" in error


def test_validate_prints_each_problem_and_exits_non_zero(
    cli_env: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "missions"
    folder.mkdir()
    mission_file(folder, 'tools = ["jurnal.add"]\n', "a.toml")
    mission_file(folder, 'schedule = "99 99 99 99 99"\n', "b.toml")
    mission_file(folder, 'tools = ["weather.*"]\n' + SOURCE, "c.toml")
    (folder / "d.toml").write_bytes(b"\xff\xfe")
    result = cli_env.invoke(app, ["missions", "validate", str(folder)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert (
        f"{folder / 'a.toml'}: tools: 'jurnal.add' matches no known tool; did you mean "
        in (lines[0])
    )
    assert f"{folder / 'b.toml'}: schedule: minute field '99' is out of range or malformed" in (
        lines
    )
    assert any(x.startswith(f"warning: {folder / 'c.toml'}: tools: 'weather.*'") for x in lines)
    assert f"ok {folder / 'c.toml'} (chk)" in lines
    assert f"{folder / 'd.toml'}: not UTF-8 text (byte 0xff at offset 0)" in lines
    assert "Traceback" not in result.output


def test_run_stops_before_running_on_an_unknown_tool(cli_env: CliRunner, tmp_path: Path) -> None:
    path = mission_file(tmp_path, 'tools = ["jurnal.add"]\n')
    result = cli_env.invoke(app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert f"{path}: tools: 'jurnal.add' matches no known tool; did you mean" in result.output
    assert not (tmp_path / "runs").exists()


def test_run_prints_the_tool_source_warning(cli_env: CliRunner, tmp_path: Path) -> None:
    path = mission_file(tmp_path, 'tools = ["weather.*"]\n[[tool_sources]]\nurl = "http://x/"\n')
    path.write_text(path.read_text() + 'token_env = "G_CONFIG_UNSET_TOKEN"\n')
    steps = tmp_path / "steps.json"
    steps.write_text('[{"text": "done"}]')
    args = ["run", str(path), "--model", f"scripted:{steps}", "--runs-dir", str(tmp_path / "r")]
    result = cli_env.invoke(app, args)
    assert f"warning: {path}: tools: 'weather.*' matches no built-in" in result.output
    assert result.exit_code == 2  # then the run itself stops: the token variable is unset
    assert "G_CONFIG_UNSET_TOKEN is not set" in result.output
