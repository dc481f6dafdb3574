"""Property tests: the overlap count, and diff finding a changed round wherever it is."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from console import peak_overlap
from planner.diff import diff_transcripts
from planner.transcript import ResponseEvent, ToolCallEvent, ToolResultEvent, read_transcript

spans = st.lists(
    st.tuples(st.integers(0, 50), st.integers(1, 20)).map(
        lambda t: (float(t[0]), float(t[0] + t[1]))
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(spans)
def test_peak_overlap_is_the_most_spans_open_at_any_instant(
    items: list[tuple[float, float]],
) -> None:
    instants = [s for s, _ in items]
    brute = max((sum(1 for s, e in items if s <= t < e) for t in instants), default=0)
    assert peak_overlap(items) == brute


@settings(max_examples=12, deadline=None)
@given(
    st.integers(1, 4),
    st.sampled_from(["response", "tool call", "result", "usage"]),
    st.text(min_size=1, max_size=20),
)
def test_diff_finds_one_changed_round(
    demo_transcript: Path, round_no: int, aspect: str, text: str
) -> None:
    events = list(read_transcript(demo_transcript))
    changed, done = [], False
    for e in events:
        top = not e.path and getattr(e, "round", None) == round_no and not done
        if top and aspect == "response" and isinstance(e, ResponseEvent):
            e, done = e.model_copy(update={"text": e.text + text}), True
        elif top and aspect == "usage" and isinstance(e, ResponseEvent):
            usage = e.usage.model_copy(update={"output_tokens": e.usage.output_tokens + 1})
            e, done = e.model_copy(update={"usage": usage}), True
        elif top and aspect == "tool call" and isinstance(e, ToolCallEvent):
            e, done = e.model_copy(update={"arguments": {**e.arguments, "extra": text}}), True
        elif top and aspect == "result" and isinstance(e, ToolResultEvent):
            e, done = e.model_copy(update={"message": e.message + text}), True
        changed.append(e)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "changed.jsonl"
        path.write_bytes(b"".join(e.__pydantic_serializer__.to_json(e) + b"\n" for e in changed))
        report = diff_transcripts(demo_transcript, path)
    if not done:  # round 4 has no tool call or result to change
        assert report.identical
        return
    assert report.divergence is not None
    assert (report.divergence.round, report.divergence.what) == (round_no, aspect)
