"""fork replays up to a round and goes on live; diff finds where two runs part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from mana_planner.cli import app
from planner import ToolContext, ToolRegistry, ToolSpec
from planner.diff import diff_transcripts, side_by_side
from planner.errors import ForkError
from planner.forking import fork
from planner.models import ScriptedModel
from planner.transcript import Header, ToolResultEvent, read_transcript
from tests.console.recording import ReadIn, ReadOut, record_demo
from tests.console.world import build_world


def _answer(text: str) -> list[dict[str, Any]]:
    return [{"text": text, "usage": {"input_tokens": 5, "output_tokens": 5}}]


async def test_a_fork_replays_early_rounds_and_runs_the_rest_live(
    demo_transcript: Path, tmp_path: Path
) -> None:
    live = ScriptedModel(_answer("A different ending."))
    done = await fork(demo_transcript, 3, model=live, out=tmp_path / "fork.jsonl")
    assert [r.round for r in live.requests] == [3]  # no model call for rounds 1 and 2
    assert done.result.summary == "A different ending." and done.result.rounds == 3
    events = list(read_transcript(done.transcript_path))
    header = events[0]
    assert isinstance(header, Header)
    assert header.parent_transcript == str(demo_transcript) and header.fork_round == 3
    wipe = next(e for e in events if isinstance(e, ToolResultEvent) and e.call_id == "wipe-1")
    assert not wipe.success and "not allowed" in wipe.message


async def test_a_fork_diffed_with_its_parent_diverges_at_the_fork_round(
    demo_transcript: Path, tmp_path: Path
) -> None:
    for at in (1, 2, 4):
        out = tmp_path / f"fork-{at}.jsonl"
        await fork(demo_transcript, at, model=ScriptedModel(_answer(f"ending {at}")), out=out)
        report = diff_transcripts(demo_transcript, out)
        assert report.divergence is not None
        assert (report.divergence.round, report.divergence.what) == (at, "response")
        marks = [row[3] for row in side_by_side(report)]
        assert marks[: at - 1] == ["="] * (at - 1) and marks[at - 1] == "≠"


async def test_sub_agents_before_the_fork_round_replay_from_the_recording(
    demo_transcript: Path, tmp_path: Path
) -> None:
    live = ScriptedModel(_answer("late fork"))
    done = await fork(demo_transcript, 4, model=live, out=tmp_path / "f.jsonl")
    assert [r.round for r in live.requests] == [4]
    sub = [e for e in read_transcript(done.transcript_path) if e.path == "task-1"]
    assert any(isinstance(e, ToolResultEvent) and e.success for e in sub)


async def test_live_tools_and_a_new_prompt_apply_from_the_fork_round(
    demo_transcript: Path, tmp_path: Path
) -> None:
    seen: list[str] = []

    async def read(ctx: ToolContext, inp: ReadIn) -> ReadOut:
        seen.append(inp.note)
        return ReadOut(note=inp.note, text="live text")

    tools = ToolRegistry([ToolSpec("notes.read", "Read.", ReadIn, ReadOut, read)])
    steps = [
        {"tool_calls": [{"id": "live-1", "name": "notes.read", "arguments": {"note": "x"}}]},
        {"text": "done live"},
    ]
    live = ScriptedModel(steps)
    done = await fork(
        demo_transcript, 2, model=live, tools=tools, system_prompt="Be brief.", out=tmp_path / "l"
    )
    assert seen == ["x"]  # round 1's three reads came from the recording
    assert {r.system_prompt for r in live.requests} == {"Be brief."}
    results = [e for e in read_transcript(done.transcript_path) if isinstance(e, ToolResultEvent)]
    assert [r.data["text"] for r in results if r.call_id == "live-1"] == ["live text"]
    assert done.result.summary == "done live"


async def test_a_round_outside_the_run_is_refused(demo_transcript: Path) -> None:
    with pytest.raises(ForkError, match="--at 9"):
        await fork(demo_transcript, 9, model=ScriptedModel([]))


async def test_two_recordings_of_one_script_match(demo_transcript: Path, tmp_path: Path) -> None:
    again = await record_demo(tmp_path / "again.jsonl", run_id="other-id")
    report = diff_transcripts(demo_transcript, again)
    assert report.identical, report.divergence
    assert all(row[3] == "=" for row in side_by_side(report))


def test_fork_and_diff_on_the_command_line(demo_transcript: Path, tmp_path: Path) -> None:
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps(_answer("cli ending")))
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("From a file.")
    cli = CliRunner()
    out = tmp_path / "cli-fork.jsonl"
    forked = cli.invoke(
        app,
        [
            "fork", str(demo_transcript), "--at", "2", "--model", f"scripted:{steps}",
            "--system-prompt", f"@{prompt}", "-o", str(out),
        ],
    )  # fmt: skip
    assert forked.exit_code == 0, forked.output
    assert forked.output.strip().endswith(str(out))
    differ = cli.invoke(app, ["diff", str(demo_transcript), str(out)])
    assert differ.exit_code == 1, differ.output
    assert "diverged at round 2: response" in differ.output
    same = cli.invoke(app, ["diff", str(demo_transcript), str(demo_transcript)])
    assert same.exit_code == 0 and same.output.startswith("identical")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    unreadable = cli.invoke(app, ["diff", str(demo_transcript), str(bad)])
    assert unreadable.exit_code == 2 and "bad.jsonl:1" in unreadable.output
    refused = cli.invoke(
        app, ["fork", str(demo_transcript), "--at", "0", "--model", f"scripted:{steps}"]
    )
    assert refused.exit_code == 2 and "--at 0" in refused.output


def test_fork_with_live_tools_runs_reads_and_refuses_writes_unless_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = anyio.run(build_world, tmp_path)
    monkeypatch.setenv("MANA_VAR_DIR", str(world.settings.var_dir))
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    transcript = world.settings.runs_dir / "notes-digest" / f"{world.digest_run}.jsonl"
    steps = tmp_path / "live.json"
    calls = [
        {"id": "s1", "name": "notes.search", "arguments": {"query": "plants"}},
        {"id": "c1", "name": "todo.create", "arguments": {"title": "Live write"}},
    ]
    steps.write_text(json.dumps([{"tool_calls": calls}, {"text": "live done"}]))
    out = tmp_path / "live-fork.jsonl"
    args = ["fork", str(transcript), "--at", "1", "--model", f"scripted:{steps}", "--live-tools"]
    done = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert done.exit_code == 0, done.output
    results = {e.call_id: e for e in read_transcript(out) if isinstance(e, ToolResultEvent)}
    assert results["s1"].success and "matches" in json.dumps(results["s1"].data)
    assert not results["c1"].success and "--allow-writes" in results["c1"].message
