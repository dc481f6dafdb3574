"""`runs show` prints the live summary from the transcript; `runs list` never cuts an id."""

from __future__ import annotations

import io
from pathlib import Path

import anyio
import pytest
from rich.console import Console
from typer.testing import CliRunner

from mana_planner.cli import app
from missions.runview import fitting_columns, list_rows, print_run, print_runs
from missions.store import RunRecord
from tests.console.world import World, build_world


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    built = anyio.run(build_world, tmp_path)
    monkeypatch.setenv("MANA_VAR_DIR", str(built.settings.var_dir))
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    return built


def _record(run_id: str, path: str | None = None) -> RunRecord:
    return RunRecord(run_id, "weekly-review", 1.7e9, 1.7e9 + 3, "assistant_stop", 2, 3, 100, 20,
                     0.01, "scripted", path, None)  # fmt: skip


def test_runs_show_prints_answer_calls_policy_sub_agents_and_usage(world: World) -> None:
    shown = CliRunner().invoke(app, ["runs", "show", world.demo_run])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert "answer:" in lines and "Three notes read; the wipe was refused." in lines
    assert "stop reason\tassistant_stop" in lines and "rounds\t4" in lines
    assert any(
        line.startswith("2\tspace.wipe\tno\tdeny\tTool space.wipe not allowed") for line in lines
    )
    assert sum(line.startswith("1\tnotes.read\tyes\tallow") for line in lines) == 3
    assert any(
        line.startswith("sub-agent\tresearch (call task-1): 2 rounds, 1 tool calls")
        for line in lines
    )
    assert "usage\t720 in / 180 out tokens, cache 0 read / 0 write, $0.0072" in lines
    transcript = world.settings.runs_dir / "demo-review" / "run-demo.jsonl"
    assert f"transcript\t{transcript}" in lines  # one line, however long
    missing = CliRunner().invoke(app, ["runs", "show", "nope"])
    assert missing.exit_code == 1 and "no run nope" in missing.output


def test_a_run_without_its_transcript_shows_the_store_fields(tmp_path: Path) -> None:
    out = io.StringIO()
    print_run(_record("r-1", str(tmp_path / "gone.jsonl")), Console(file=out, width=10_000))
    text = out.getvalue()
    assert "id\tr-1" in text and "transcript unreadable:" in text and "gone.jsonl" in text


def test_runs_list_piped_keeps_whole_ids_on_one_line(world: World) -> None:
    listed = CliRunner().invoke(app, ["runs", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split("\t")[0] == "run"
    assert {line.split("\t")[0] for line in lines[1:]} == {world.demo_run, world.digest_run}


def test_on_a_narrow_terminal_columns_go_before_the_run_id() -> None:
    long_id = "20261201T114700-weekly-review-scheduled-slot-0042-abcdef"
    out = io.StringIO()
    print_runs([_record(long_id)], Console(file=out, force_terminal=True, width=70))
    assert long_id in out.getvalue()
    rows = list_rows([_record(long_id)])
    assert fitting_columns(rows, 70)[0] == 0 and len(fitting_columns(rows, 70)) < 8
    assert len(fitting_columns(rows, 400)) == 8
    assert fitting_columns(rows, 10) == [0]


def test_piped_cli_output_keeps_long_lines_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.setenv("MANA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    runs = tmp_path / ("a-rather-long-folder-name-so-that-paths-pass-eighty-columns" * 2)
    done = CliRunner().invoke(app, ["demo", "--runs-dir", str(runs)])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert any(line.startswith(f"transcript\t{runs}") for line in lines)
    assert any(line.startswith(f"replay of {runs}") and "identical" in line for line in lines)
