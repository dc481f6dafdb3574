"""A mission's `output = "module:Model"` (resolved beside the mission file), its replay, and
`run --stream` on the command line."""

from __future__ import annotations

import io
import json
import secrets
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mana_planner.cli import app as cli_app
from missions.app import App, tool_catalog
from missions.checks import check_mission
from missions.config import load_mission
from missions.errors import MissionConfigError
from missions.live import LivePrinter, live_feed, streamed_options
from missions.replaying import replay_file
from missions.runner import run_mission
from planner import RoundEnd, StopReason, TextDelta, ToolCall, ToolCallDecided, Usage
from planner.transcript import ToolResultEvent

MODELS = """
from pydantic import BaseModel


class Digest(BaseModel):
    title: str
    count: int
"""
GOOD = {"title": "Week", "count": 3}


@pytest.fixture
def module_name(tmp_path: Path) -> Iterator[str]:
    """An output-model module beside the mission, under a name no other test imports."""
    name = f"i_models_{secrets.token_hex(4)}"
    (tmp_path / f"{name}.py").write_text(MODELS)
    yield name
    sys.modules.pop(name, None)


def mission(tmp_path: Path, output: str, steps: list[dict[str, object]]) -> Path:
    (tmp_path / "steps.json").write_text(json.dumps(steps))
    path = tmp_path / "typed.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            id = "typed"
            title = "typed"
            objective = "Sum up the week."
            model = "scripted:steps.json"
            user_id = "ada"
            tools = ["todo.list"]
            output = "{output}"
            """
        )
    )
    return path


STEPS: list[dict[str, object]] = [
    {"text": "Looking.", "tool_calls": [{"name": "todo.list", "id": "c1", "arguments": {}}]},
    {"text": '{"title": "Week"}'},
    {"text": json.dumps(GOOD)},
]


async def test_a_mission_output_is_validated_recorded_and_replayed(
    app: App, tmp_path: Path, module_name: str
) -> None:
    path = mission(tmp_path, f"{module_name}:Digest", STEPS)
    run = await run_mission(load_mission(path), app, mission_path=path)
    assert run.result.stop_reason is StopReason.ASSISTANT_STOP, run.result.error
    assert run.result.output is not None
    assert run.result.output.model_dump() == GOOD
    assert type(run.result.output).__module__ == module_name
    lines = [json.loads(x) for x in run.transcript_path.read_text().splitlines()]
    assert lines[-1]["type"] == "run_finished" and lines[-1]["output"] == GOOD
    sys.modules.pop(module_name)  # replay imports the model beside the recorded mission
    report = await replay_file(run.transcript_path)
    assert report.identical, report.divergence
    assert report.result.output is not None and report.result.output.model_dump() == GOOD


def test_a_bad_output_reference_names_file_field_and_reference(tmp_path: Path) -> None:
    path = mission(tmp_path, "nowhere_at_all:Digest", STEPS)
    found = check_mission(load_mission(path), path, tool_catalog(tmp_path / "var"))
    assert any(
        str(path) in e and "output" in e and "nowhere_at_all:Digest" in e for e in found.errors
    ), found.errors
    path.write_text(path.read_text().replace("nowhere_at_all:Digest", "no colon"))
    with pytest.raises(MissionConfigError, match="output"):
        load_mission(path)


def test_run_stream_prints_plain_lines_when_piped(
    cli_env: CliRunner, tmp_path: Path, module_name: str
) -> None:
    path = mission(tmp_path, f"{module_name}:Digest", STEPS)
    result = cli_env.invoke(
        cli_app, ["run", str(path), "--stream", "--runs-dir", str(tmp_path / "runs")]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "round 1 text: Looking." in out
    assert "round 1 call todo.list {}" in out
    assert "round 1 result todo.list ok:" in out
    assert 'round 2 text: {"title": "Week"}' in out
    assert out.index("round 1 text") < out.index("round 1 call") < out.index("round 2 text")


def test_on_a_terminal_text_streams_and_calls_show_as_decided() -> None:
    out = io.StringIO()
    printer = LivePrinter(out, terminal=True)
    call = ToolCall(id="c1", name="todo.list", arguments={"done": False})
    for event in (
        TextDelta("Look", 1),
        TextDelta("ing.", 1),
        ToolCallDecided(1, call),
        ToolResultEvent(round=1, call_id="c1", name="todo.list", success=True, message="2 todos"),
        RoundEnd(1, "Looking.", 1, Usage(), "tool_use"),
        TextDelta("Done", 2),
        RoundEnd(2, "Done", 0, Usage(), "end_turn"),
    ):
        printer.show(event)
    text = out.getvalue()
    assert text.startswith("Looking.\n")  # the pieces as they came, then a line break
    assert "→ call todo.list" in text and '{"done": false}' in text
    assert "← result todo.list ok: 2 todos" in text
    assert text.rstrip().endswith("Done")


def test_piped_text_is_one_line_per_round_and_sub_agents_are_prefixed() -> None:
    out = io.StringIO()
    feed = live_feed(out, terminal=False)
    feed.delta(TextDelta("two\nlines", 1))
    feed.emit(ToolCallDecided(3, ToolCall(id="s1", name="notes.search"), "c9/sub"))
    feed.emit(RoundEnd(1, "two lines", 0, Usage(), "end_turn"))
    assert out.getvalue().splitlines() == [
        "[c9/sub] round 3 call notes.search {}",
        "round 1 text: two lines",
    ]


def test_stream_turns_on_the_stream_option_unless_it_is_set() -> None:
    assert streamed_options([]) == ["stream=true"]
    assert streamed_options(["stream=false"]) == ["stream=false"]
