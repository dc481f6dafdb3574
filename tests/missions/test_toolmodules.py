"""A mission's own Python tools (`tool_modules`, `mana_planner.tools` entry points): the same
patterns, gate, plan-only staging and transcript as the built-in tools."""

from __future__ import annotations

import json
import re
import secrets
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mana_planner.cli import app as cli_app
from missions.app import App, tool_catalog
from missions.checks import check_mission
from missions.config import load_mission
from missions.errors import MissionConfigError
from missions.planonly import approve
from missions.runner import run_mission
from planner import StopReason
from planner.models import ScriptedModel

TOOLS = """
from pathlib import Path

from pydantic import BaseModel

from planner import ToolRegistry, ToolSpec

SAVED = Path(__file__).with_name("saved.txt")


class Text(BaseModel):
    text: str


class Nothing(BaseModel):
    pass


class Echo(BaseModel):
    echo: str


async def lookup(ctx, inp: Text) -> Echo:
    return Echo(echo=inp.text.upper())


async def save(ctx, inp: Text) -> Echo:
    with SAVED.open("a") as fh:
        fh.write(inp.text + "\\n")
    return Echo(echo="saved")


async def wipe(ctx, inp: Nothing) -> Echo:
    SAVED.unlink(missing_ok=True)
    return Echo(echo="wiped")


def tools():
    return ToolRegistry([
        ToolSpec("mine.lookup", "Look a word up.\\n\\nMore text.", Text, Echo, lookup,
                 policy_hint="read"),
        ToolSpec("mine.save", "Save a line of text.", Text, Echo, save, policy_hint="write"),
        ToolSpec("mine.wipe", "Delete every saved line.", Nothing, Echo, wipe,
                 policy_hint="destructive"),
        ToolSpec("other.hidden", "Not selected by the patterns.", Nothing, Echo, lookup,
                 policy_hint="read"),
    ])
"""


@pytest.fixture
def module_name(tmp_path: Path) -> Iterator[str]:
    """A tools module beside the mission files, under a name no other test imports."""
    name = f"g_tools_{secrets.token_hex(4)}"
    (tmp_path / f"{name}.py").write_text(TOOLS)
    yield name
    sys.modules.pop(name, None)


def mission(tmp_path: Path, module: str, extra: str = "", *, mode: str = "execute") -> Path:
    path = tmp_path / "own.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            id = "own-tools"
            title = "own"
            objective = "Use my tools."
            model = "openai:gpt-5-mini"
            user_id = "ada"
            mode = "{mode}"
            tools = ["mine.*", "todo.list"]
            tool_modules = ["{module}"]
            """
        )
        + extra
    )
    return path


def call(name: str, call_id: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "id": call_id, "arguments": arguments}


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_own_tools_run_under_the_patterns_and_the_gate(
    app: App, tmp_path: Path, module_name: str
) -> None:
    policy = '[policy]\nmode = "enforce"\nrate_limits = { "mine.save" = 1 }\n'
    path = mission(tmp_path, module_name, policy)
    model = ScriptedModel(
        [
            {"tool_calls": [call("mine.lookup", "c1", text="hi")]},
            {
                "tool_calls": [
                    call("mine.save", "c2", text="one"),
                    call("mine.save", "c3", text="two"),
                    call("mine.wipe", "c4"),
                    call("other.hidden", "c5"),
                ]
            },
            {"text": "done"},
        ]
    )
    run = await run_mission(load_mission(path), app, model=model, mission_path=path)
    assert run.result.stop_reason is StopReason.ASSISTANT_STOP
    offered = {t.name for t in model.requests[0].tools}
    assert offered == {"mine.lookup", "mine.save", "mine.wipe", "todo.list"}
    looked, saved, limited, wiped, hidden = (e.result for e in run.result.executed_calls)
    assert looked.success and looked.data == {"echo": "HI"}
    assert saved.success
    assert not limited.success and "rate-limit-exceeded" in limited.message
    assert not wiped.success and "destructive-not-allowed" in wiped.message
    assert not hidden.success
    assert (tmp_path / "saved.txt").read_text() == "one\n"
    recorded = events(run.transcript_path)
    started = next(e for e in recorded if e["type"] == "run_started")
    described = {t["name"]: t["description"] for t in started["tools"]}
    assert described["mine.save"] == "Save a line of text."
    calls = [e["name"] for e in recorded if e["type"] == "tool_call"]
    assert calls[:3] == ["mine.lookup", "mine.save", "mine.save"]
    assert sum(e["type"] == "tool_result" for e in recorded) == 5


async def test_plan_only_stages_an_own_write_tool_until_approved(
    app: App, tmp_path: Path, module_name: str
) -> None:
    path = mission(tmp_path, module_name, mode="plan-only")
    model = ScriptedModel(
        [
            {
                "tool_calls": [
                    call("mine.lookup", "c1", text="x"),
                    call("mine.save", "c2", text="s"),
                ]
            },
            {"text": "proposed"},
        ]
    )
    run = await run_mission(load_mission(path), app, model=model, mission_path=path)
    looked, staged = (e.result for e in run.result.executed_calls)
    assert looked.success and looked.data == {"echo": "X"}  # reads run
    assert staged.success and "pending approval" in staged.message
    assert not (tmp_path / "saved.txt").exists()
    (proposal,) = await app.runs.list_proposals("pending")
    assert proposal.tool == "mine.save" and proposal.arguments == {"text": "s"}
    sys.modules.pop(module_name)  # approval imports the mission's module afresh
    done = await approve(app.runs, proposal.id, app.tools)
    assert done.status == "approved", done.result
    assert (tmp_path / "saved.txt").read_text() == "s\n"


@pytest.fixture
def entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An installed distribution (a dist-info folder on sys.path) with one tools entry point."""
    name = f"g_plugin_{secrets.token_hex(4)}"
    site = tmp_path / "site"
    site.mkdir()
    (site / f"{name}.py").write_text(TOOLS.replace("mine.", "plug."))
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[mana_planner.tools]\nweather = {name}:tools\n")
    monkeypatch.syspath_prepend(str(site))
    yield name
    sys.modules.pop(name, None)


async def test_an_installed_entry_point_provides_tools(
    app: App, tmp_path: Path, entry_point: str
) -> None:
    path = tmp_path / "ep.toml"
    path.write_text(
        'id = "ep"\ntitle = "t"\nobjective = "o"\nmodel = "openai:m"\nuser_id = "ada"\n'
        'tools = ["plug.lookup"]\ntool_entry_points = ["weather"]\n'
    )
    model = ScriptedModel([{"tool_calls": [call("plug.lookup", "c1", text="ep")]}, {"text": "ok"}])
    run = await run_mission(load_mission(path), app, model=model, mission_path=path)
    (looked,) = (e.result for e in run.result.executed_calls)
    assert looked.success and looked.data == {"echo": "EP"}
    path.write_text(path.read_text().replace('["weather"]', '["wether"]'))
    with pytest.raises(MissionConfigError) as info:
        await run_mission(load_mission(path), app, model=model, mission_path=path)
    assert str(info.value).startswith(f"{path}: tool_entry_points: wether: no installed entry")
    assert "did you mean 'weather'?" in str(info.value)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (None, "cannot import: ModuleNotFoundError: No module named"),
        ("x = 1\n", "exposes no `tools()` function"),
        ("def tools():\n    return []\n", "tools() returned no tools"),
        ("def tools():\n    return ['todo.list']\n", "tools() returned a str, not a ToolSpec"),
        ("def tools():\n    raise KeyError('db')\n", "tools() failed: KeyError: 'db'"),
        ("import nope_not_installed\n", "cannot import: ModuleNotFoundError"),
        ("def tools(:\n", "cannot import: SyntaxError"),
    ],
)
async def test_a_module_that_gives_nothing_usable_is_a_config_error(
    app: App, tmp_path: Path, source: str | None, problem: str
) -> None:
    name = f"g_bad_{secrets.token_hex(4)}"
    if source is not None:
        (tmp_path / f"{name}.py").write_text(source)
    path = mission(tmp_path, name)
    expected = f"{path}: tool_modules: {name}: {problem}"
    try:
        (error,) = check_mission(load_mission(path), path, tool_catalog()).errors
        assert error.startswith(expected)
        with pytest.raises(MissionConfigError) as info:
            await run_mission(load_mission(path), app, model=ScriptedModel([]), mission_path=path)
        assert str(info.value).startswith(expected)
    finally:
        sys.modules.pop(name, None)


async def test_an_own_tool_may_not_take_a_built_in_name(
    app: App, tmp_path: Path, module_name: str
) -> None:
    (tmp_path / f"{module_name}.py").write_text(TOOLS.replace('"mine.save"', '"todo.create"'))
    path = mission(tmp_path, module_name)
    clash = rf"^{path}: tool_modules: {module_name}: tool 'todo.create' is registered twice$"
    (error,) = check_mission(load_mission(path), path, tool_catalog()).errors
    assert re.match(clash, error)
    with pytest.raises(MissionConfigError, match=clash):
        await run_mission(load_mission(path), app, model=ScriptedModel([]), mission_path=path)


def test_module_function_syntax_and_checked_patterns(tmp_path: Path, module_name: str) -> None:
    path = mission(tmp_path, f"{module_name}:tools")
    path.write_text(path.read_text().replace('"mine.*"', '"mine.sav"'))
    (error,) = check_mission(load_mission(path), path, tool_catalog()).errors
    assert error == (
        f"{path}: tools: 'mine.sav' matches no known tool; did you mean 'mine.save' or 'mine.*'?"
    )


def test_tools_list_shows_a_missions_tools_with_descriptions(
    tmp_path: Path, module_name: str, cli_env: CliRunner
) -> None:
    path = mission(tmp_path, module_name)
    result = cli_env.invoke(cli_app, ["tools", "list", "--mission", str(path)])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.output.splitlines()]
    assert rows[0] == ["name", "hint", "parallel-safe", "source", "description"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"mine.lookup", "mine.save", "mine.wipe", "todo.list"}
    assert by_name["mine.lookup"][1:] == [
        "read",
        "yes",
        f"tool_modules: {module_name}",
        "Look a word up.",
    ]
    assert by_name["todo.list"][3] == "built-in"
    builtin = cli_env.invoke(cli_app, ["tools", "list"])
    assert builtin.exit_code == 0 and "todo.create" in builtin.output
    broken = mission(tmp_path, "g_missing_module_x")
    failed = cli_env.invoke(cli_app, ["tools", "list", "--mission", str(broken)])
    assert failed.exit_code == 2
    assert f"{broken}: tool_modules: g_missing_module_x: cannot import" in failed.output


def test_cli_run_and_approve_of_an_own_write_tool(
    tmp_path: Path, module_name: str, cli_env: CliRunner
) -> None:
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps([{"tool_calls": [call("mine.save", "c1", text="cli")]}, {}]))
    path = mission(tmp_path, module_name, mode="plan-only")
    path.write_text(path.read_text().replace("openai:gpt-5-mini", "scripted:steps.json"))
    cli = cli_env
    ran = cli.invoke(cli_app, ["run", str(path), "--runs-dir", str(tmp_path / "runs")])
    assert ran.exit_code == 0, ran.output
    assert not (tmp_path / "saved.txt").exists()
    listed = cli.invoke(cli_app, ["proposals", "list", "--status", "pending"])
    proposal_id = next(w for w in listed.output.split() if w.startswith("P-"))
    approved = cli.invoke(cli_app, ["proposals", "approve", proposal_id])
    assert approved.exit_code == 0, approved.output
    assert (tmp_path / "saved.txt").read_text() == "cli\n"


async def test_a_replay_with_live_tools_runs_the_missions_own_tools(
    app: App, tmp_path: Path, module_name: str
) -> None:
    from missions.replaying import replay_file

    path = mission(tmp_path, module_name)
    model = ScriptedModel([{"tool_calls": [call("mine.lookup", "c1", text="r")]}, {"text": "ok"}])
    run = await run_mission(load_mission(path), app, model=model, mission_path=path)
    report = await replay_file(run.transcript_path, live=True, settings=app.settings)
    assert report.divergence is None
    assert report.requests_compared == 2
