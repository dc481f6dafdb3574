"""The run view-model, built from a transcript recorded by running the loop."""

from __future__ import annotations

import json
from pathlib import Path

import anyio

from console import as_json, build_run, peak_overlap
from console.runpage import render_run_page
from planner.transcript import RunFinished, ToolResultEvent, read_transcript
from tests.console.recording import READ_MS, record_incidents


def test_rounds_calls_and_answer_come_from_the_transcript(demo_transcript: Path) -> None:
    view = build_run(read_transcript(demo_transcript))
    assert [r.number for r in view.rounds] == [1, 2, 3, 4]
    assert [c.tool for c in view.rounds[0].calls] == ["notes.read"] * 3
    assert view.answer == "Three notes read; the wipe was refused."
    assert view.stop_reason == "assistant_stop"
    assert view.usage.input_tokens == 6 * 120  # four rounds plus the sub-agent's two
    assert view.agent == "demo-review"


def test_bars_last_from_real_start_to_real_end(demo_transcript: Path) -> None:
    view = build_run(read_transcript(demo_transcript))
    reads = view.rounds[0].calls
    for call, slept in zip(reads, READ_MS, strict=True):
        assert call.end_ms - call.start_ms >= slept
    model = view.rounds[0].model
    assert model is not None and 0 <= model.start_ms < model.end_ms <= reads[0].start_ms
    # the reads overlap: all three are open at one instant
    assert view.rounds[0].peak_parallel == 3
    # each round starts after the previous one ended
    for before, after in zip(view.rounds, view.rounds[1:], strict=False):
        assert before.end_ms <= after.start_ms


def test_each_read_lasts_its_own_time(demo_transcript: Path) -> None:
    reads = build_run(read_transcript(demo_transcript)).rounds[0].calls
    lengths = [c.end_ms - c.start_ms for c in reads]
    assert lengths == sorted(lengths)
    assert lengths[2] - lengths[0] >= (READ_MS[2] - READ_MS[0]) * 0.5


def test_a_denial_is_marked(demo_transcript: Path) -> None:
    wipe = build_run(read_transcript(demo_transcript)).rounds[1].calls[0]
    assert (wipe.tool, wipe.mark, wipe.success) == ("space.wipe", "deny", False)
    assert wipe.policy is not None and wipe.policy.mode == "enforce"
    assert "not allowed" in wipe.message


def test_a_sub_agent_nests_under_its_task_call(demo_transcript: Path) -> None:
    view = build_run(read_transcript(demo_transcript))
    task = view.rounds[2].calls[0]
    assert task.tool == "task" and task.sub_run is not None
    sub = task.sub_run
    assert sub.path == "task-1" and sub.agent == "research" and len(sub.rounds) == 2
    inner = sub.rounds[0].calls[0]
    assert inner.call_id == "sub-read-1" and inner.key == "task-1/sub-read-1"
    assert task.start_ms <= sub.start_ms <= inner.start_ms < inner.end_ms <= task.end_ms
    assert [c.call_id for c in view.all_calls()][-1] == "sub-read-1"


def test_an_interrupted_run_still_draws(demo_transcript: Path) -> None:
    events = list(read_transcript(demo_transcript))
    cut = next(i for i, e in enumerate(events) if isinstance(e, ToolResultEvent))
    view = build_run(events[:cut])
    assert view.stop_reason is None and view.answer == ""
    call = view.rounds[0].calls[0]
    assert call.success is None and call.end_ms == call.start_ms
    assert not any(isinstance(e, RunFinished) for e in events[:cut])


def test_the_view_is_plain_json(demo_transcript: Path) -> None:
    data = as_json(build_run(read_transcript(demo_transcript)))
    text = json.dumps(data)
    rounds = json.loads(text)["rounds"]
    assert rounds[1]["calls"][0]["mark"] == "deny"
    assert rounds[2]["calls"][0]["sub_run"]["rounds"][0]["calls"][0]["key"] == "task-1/sub-read-1"
    assert rounds[0]["peak_parallel"] == 3


def test_peak_overlap_counts_spans_open_at_once() -> None:
    assert peak_overlap([]) == 0
    assert peak_overlap([(0, 10), (10, 20)]) == 1  # touching spans do not overlap
    assert peak_overlap([(0, 10), (5, 15), (6, 7), (20, 30)]) == 3


def test_reminders_retries_would_deny_flags_and_compaction(tmp_path: Path) -> None:
    path = anyio.run(record_incidents, tmp_path / "incidents.jsonl")
    view = build_run(read_transcript(path))
    first, second, third = view.rounds
    assert first.reminders == ("round 1 of 8",)
    assert [r.status for r in first.retries] == [529]
    assert first.model is not None and first.model.start_ms <= first.retries[0].at_ms
    assert first.calls[0].mark == "would-deny" and first.calls[0].success is True
    assert second.calls[0].mark == "flagged"
    compacted = [r.compaction for r in view.rounds if r.compaction is not None]
    assert len(compacted) == 1 and compacted[0].removed > 0
    assert "earlier: a wipe and a read" in compacted[0].summary
    assert third.model is not None and third.model.text == "done"
    page = render_run_page(view)
    assert "chip would-deny" in page and "chip flagged" in page and "chip compaction" in page
    assert "retry 1 (529)" in page and "class='retry-tick'" in page
    assert "title='round 1 of 8'" in page
