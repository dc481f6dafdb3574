"""The reader refuses every malformed transcript with file:line, and `replay` exits 2 on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner import run_planner_loop
from planner.errors import TranscriptError
from planner.transcript import (
    FileTranscript,
    RunFinished,
    ToolResultEvent,
    encode_event,
    read_transcript,
)
from tests.engine.helpers import call, echo_tool, make_input

Lines = list[bytes]


@pytest.fixture
def good(tmp_path: Path) -> Lines:
    """The lines of a complete two-round run with one tool call."""
    import anyio

    path = tmp_path / "good.jsonl"
    steps = [{"tool_calls": [call("demo.echo", "c1", text="hi")]}, {"text": "done"}]

    async def record() -> None:
        with FileTranscript(path) as transcript:
            inp, _ = make_input(steps, [echo_tool()], transcript=transcript)
            await run_planner_loop(inp)

    anyio.run(record)
    return path.read_bytes().splitlines(keepends=True)


def types(lines: Lines) -> list[str]:
    return [json.loads(line)["type"] for line in lines]


def at(lines: Lines, kind: str) -> int:
    return types(lines).index(kind)


def edit(lines: Lines, index: int, **fields: object) -> Lines:
    event = json.loads(lines[index])
    event.update(fields)
    return [*lines[:index], json.dumps(event).encode() + b"\n", *lines[index + 1 :]]


def moved_finish(lines: Lines) -> Lines:
    end = lines[-1]
    return [*lines[:3], end, *lines[3:-1]]


MALFORMED: dict[str, tuple[Callable[[Lines], Lines], int, str]] = {
    "non-UTF-8": (lambda ls: [*ls[:2], b'{"type": "\xff\xfe"}\n', *ls[2:]], 3, "not UTF-8"),
    "NUL": (lambda ls: [*ls[:2], b"\x00\x01\x02binary\n", *ls[2:]], 3, "NUL"),
    "no header": (lambda ls: ls[1:], 1, "first line must be the transcript header"),
    "foreign header": (lambda ls: edit(ls, 0, format="other-tool"), 1, "not a mana-planner"),
    "foreign JSON": (lambda ls: [b'{"hello": 1}\n', *ls[1:]], 1, ""),
    "second header": (lambda ls: [*ls[:3], ls[0], *ls[3:]], 4, "a second header"),
    "events before run_started": (lambda ls: [ls[0], *ls[2:]], 2, "before run_started"),
    "run_finished in the middle": (moved_finish, 5, "after run_finished"),
    "run_finished twice": (lambda ls: [*ls, ls[-1]], 10, "after run_finished"),
    "rounds going backwards": (
        lambda ls: edit(ls, at(ls, "tool_call"), round=0),
        5,
        "round 0 comes after round 1",
    ),
    "tool_result without tool_call": (
        lambda ls: [x for i, x in enumerate(ls) if i != at(ls, "tool_call")],
        5,
        "tool_result for 'c1' without its tool_call",
    ),
    "truncated in the middle": (lambda ls: [*ls[:3], ls[3][:20] + b"\n", *ls[4:]], 4, "JSON"),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_transcripts_are_refused_naming_file_and_line(
    case: tuple[Callable[[Lines], Lines], int, str], good: Lines, tmp_path: Path
) -> None:
    change, line, problem = case
    path = tmp_path / "bad.jsonl"
    bad = change(good)
    path.write_bytes(b"".join(bad))
    with pytest.raises(TranscriptError) as caught:
        list(read_transcript(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message


def test_the_good_transcript_reads(good: Lines, tmp_path: Path) -> None:
    path = tmp_path / "good.jsonl"
    path.write_bytes(b"".join(good))
    assert [e.type for e in read_transcript(path)] == types(good)
    assert types(good)[4:6] == ["tool_call", "tool_result"]


def test_a_line_over_the_limit_is_refused(
    good: Lines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = max(len(line) for line in good[:2])
    monkeypatch.setattr("planner.transcript.MAX_LINE_BYTES", limit)
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"".join([*good[:2], b'{"x": "' + b"a" * limit + b'"}\n']))
    with pytest.raises(TranscriptError, match=rf"long.jsonl:3: line is over the {limit}-byte"):
        list(read_transcript(path))
    big = ToolResultEvent(round=1, call_id="c", name="n", success=True, message="m" * limit)
    with pytest.raises(TranscriptError, match=f"over the {limit}-byte line limit"):
        encode_event(big, path)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(TranscriptError, match=r"empty\.jsonl: empty transcript"):
        list(read_transcript(empty))
    with pytest.raises(TranscriptError, match="cannot open"):
        list(read_transcript(tmp_path / "missing.jsonl"))


def test_a_run_cut_mid_write_reads_up_to_its_last_complete_event(
    good: Lines, tmp_path: Path
) -> None:
    path = tmp_path / "cut.jsonl"
    keep = at(good, "tool_result")
    path.write_bytes(b"".join(good[:keep]) + good[keep][: len(good[keep]) // 2])
    events = list(read_transcript(path))
    assert len(events) == keep
    assert types(good[:keep]) == [e.type for e in events]
    assert not any(isinstance(e, RunFinished) for e in events)


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_replay_exits_2_on_every_malformed_file(
    case: tuple[Callable[[Lines], Lines], int, str], good: Lines, tmp_path: Path
) -> None:
    from mana_planner.cli import app

    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(case[0](good)))
    result = CliRunner().invoke(app, ["replay", str(path)])
    assert result.exit_code == 2, result.output
    assert "bad.jsonl:" in result.output
