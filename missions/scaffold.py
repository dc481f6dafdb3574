"""`mana-planner init DIR`: a new project with a mission, its own tools, scripted steps and a
test that runs the mission offline with planner.testing (it passes as written).

Mount it with `register(app)` on a typer app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Annotated

import typer

from missions.config import MissionConfig
from missions.errors import MissionError

MISSION = Template("""\
# A mission: a goal, a model, the tools it may use. `mana-planner run mission.toml` runs it;
# the scripted model plays steps.json offline. With a key, try another model:
#   mana-planner run mission.toml --model anthropic:claude-haiku-4-5
id = "$slug"
title = "Weather memo"
objective = "Look up today's weather in Lisbon and save it as a memo for me."
system_prompt = "You are a concise assistant. Use the tools; never invent facts."
model = "scripted:steps.json"
tools = ["$tool_prefix.*"]
user_id = "me"
$tool_modules
[limits]
max_rounds = 5
""")

TOOLS = Template('''\
"""This project's tools, made from typed functions with `planner.tool`.

The docstring's first paragraph is what the model reads about the tool; the `Args:` lines
describe its parameters. `policy_hint="read"` marks a read (reads may run in parallel);
anything else is a write, which plan-only missions stage as a proposal.
"""

from __future__ import annotations

import os
from pathlib import Path

from planner import ToolContext, tool

FORECASTS = {"lisbon": ("sunny", 19), "berlin": ("light rain", 9), "oslo": ("snow", -3)}


@tool("$tool_prefix.forecast", policy_hint="read")
def forecast(city: str) -> dict[str, object]:
    """Today's forecast for a city.

    Args:
        city: City name, e.g. Lisbon.
    """
    summary, celsius = FORECASTS.get(city.strip().lower(), ("unknown", 0))
    return {"city": city, "summary": summary, "celsius": celsius}


@tool("$tool_prefix.memo", idempotent=True)
async def memo(ctx: ToolContext, text: str) -> str:
    """Save a short memo for the user.

    Args:
        text: What to remember, one or two sentences.
    """
    folder = Path(os.environ.get("MEMO_DIR", Path(__file__).parent / "memos"))
    folder.mkdir(parents=True, exist_ok=True)
    # Named by the call id: a step re-run after a crash writes the same file, not a second one.
    path = folder / f"{ctx.call_id or 'memo'}.txt"
    path.write_text(text, encoding="utf-8")
    return f"saved {path.name}"


def tools() -> list[object]:
    """The tools this module provides (what a mission's `tool_modules` loads)."""
    return [forecast, memo]
''')

STEPS = Template("""\
[
  {
    "text": "Checking the weather first.",
    "tool_calls": [{"name": "$tool_prefix.forecast", "arguments": {"city": "Lisbon"}}]
  },
  {
    "tool_calls": [{"name": "$tool_prefix.memo", "arguments": {"text": "Lisbon: sunny, 19 C."}}]
  },
  {"text": "It is sunny in Lisbon (19 C); I saved a memo."}
]
""")

PYPROJECT = Template("""\
[project]
name = "$slug"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["mana-planner"]

[tool.pytest.ini_options]
testpaths = ["tests"]
""")

CONFTEST = '''\
"""The fake LLM server fixture (`llm_server`) from mana-planner's test kit."""

pytest_plugins = ["planner.testing.pytest_plugin"]
'''

TEST = Template('''\
"""The mission runs offline: the scripted model from planner.testing, or the fake LLM server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from missions import build_input, load_mission
from planner import Model, OpenAIChatModel, PlannerLoopResult, StopReason, ToolRegistry
from planner import run_planner_loop
from planner.testing import FakeCall, FakeLLMServer, Reply, ScriptedModel

from tools import tools

HERE = Path(__file__).resolve().parents[1]


async def run(model: Model) -> PlannerLoopResult:
    """One run of mission.toml over this project's tools."""
    cfg = load_mission(HERE / "mission.toml")
    registry = ToolRegistry(tools()).filter(lambda spec: cfg.selects(spec.name))
    return await run_planner_loop(build_input(cfg, registry, model, "test-run", "personal:me"))


@pytest.fixture(autouse=True)
def memo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEMO_DIR", str(tmp_path))
    return tmp_path


def test_the_scripted_steps_run_the_mission(memo_dir: Path) -> None:
    result = asyncio.run(run(ScriptedModel.from_file(HERE / "steps.json")))
    assert result.stop_reason is StopReason.ASSISTANT_STOP
    weather, saved = result.executed_calls
    assert weather.result.data == {"city": "Lisbon", "summary": "sunny", "celsius": 19}
    assert saved.result.success
    assert [p.read_text() for p in memo_dir.iterdir()] == ["Lisbon: sunny, 19 C."]


def test_a_real_adapter_against_the_fake_server(llm_server: FakeLLMServer) -> None:
    llm_server.push(
        Reply(tool_calls=[FakeCall("${tool_prefix}__forecast", {"city": "Oslo"})]),
        Reply(text="Snow in Oslo."),
    )

    async def run_and_close() -> PlannerLoopResult:
        model = OpenAIChatModel("gpt-test", api_key="test", base_url=llm_server.openai_base_url)
        try:
            return await run(model)
        finally:
            await model.aclose()

    result = asyncio.run(run_and_close())
    assert result.summary == "Snow in Oslo."
    assert result.executed_calls[0].result.data["summary"] == "snow"
    offered = [t["function"]["name"] for t in llm_server.requests[0].body["tools"]]
    assert offered == ["${tool_prefix}__forecast", "${tool_prefix}__memo"]
''')

README = Template("""\
# $slug

A mana-planner project: `mission.toml` (the mission), `tools.py` (its tools, made from typed
functions), `steps.json` (scripted model steps, for offline runs), `tests/` and a `conftest.py`
that enables planner.testing's pytest plugin (the `llm_server` fixture).

```bash
pytest                              # runs the mission offline, twice: scripted, and a real
                                    # adapter against planner.testing's fake LLM server
mana-planner run mission.toml       # a durable run; transcript under runs/$slug/
```
""")


class ScaffoldError(MissionError):
    """The target of `init` cannot hold a new project (names the path)."""


@dataclass(frozen=True)
class Project:
    """What `init` wrote."""

    root: Path
    files: tuple[Path, ...]


def project_names(root: Path) -> dict[str, str]:
    """The mission id and tool prefix for a project folder (`My Project` -> `my-project`)."""
    slug = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-") or "my-mission"
    prefix = slug.replace("-", "_")
    if not prefix[0].isalpha():
        prefix = f"p_{prefix}"
    return {"slug": slug if slug[0].isalnum() else f"m{slug}", "tool_prefix": prefix}


def write_project(root: Path) -> Project:
    """Write a new project into `root` (missing or empty); ScaffoldError otherwise."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ScaffoldError(f"{root}: exists and is not an empty folder")
    names = project_names(root)
    # Missions name their own tool modules once the config knows the field.
    modules = 'tool_modules = ["tools"]\n' if "tool_modules" in MissionConfig.model_fields else ""
    contents = {
        "mission.toml": MISSION.substitute(names, tool_modules=modules),
        "tools.py": TOOLS.substitute(names),
        "steps.json": STEPS.substitute(names),
        "conftest.py": CONFTEST,
        "tests/test_mission.py": TEST.substitute(names),
        "README.md": README.substitute(names),
        "pyproject.toml": PYPROJECT.substitute(names),
    }
    written = []
    for relative, text in contents.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return Project(root, tuple(written))


def init(
    directory: Annotated[Path, typer.Argument(help="A new (or empty) folder for the project")],
) -> None:
    """Start a new project: a mission, its own tools, scripted steps and a passing test."""
    try:
        project = write_project(directory)
    except (ScaffoldError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for path in project.files:
        typer.echo(f"wrote {path}")
    typer.echo(f"next: cd {directory} && pytest && mana-planner run mission.toml")


def register(app: typer.Typer) -> None:
    """Add `init` to a typer app."""
    app.command("init")(init)
