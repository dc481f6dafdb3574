"""A mission run's transcript (the file plus live sinks) batches its lines as a bare file does."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from missions.runner import TeeTranscript
from planner import FileTranscript, ToolContext, ToolSpec, run_planner_loop
from planner.transcript import AnyEvent, ToolResultEvent
from tests.engine.helpers import call, make_input


class LookIn(BaseModel):
    key: str


class LookOut(BaseModel):
    saw_own_call: bool


def kinds(path: Path) -> list[str]:
    return [json.loads(line)["type"] for line in path.read_text().splitlines()]


async def test_lines_go_out_together_and_every_event_reaches_the_sinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.jsonl"

    async def look(ctx: ToolContext, inp: LookIn) -> LookOut:
        calls = [json.loads(x) for x in path.read_text().splitlines()]
        own = [e for e in calls if e["type"] == "tool_call" and e["call_id"] == ctx.call_id]
        return LookOut(saw_own_call=len(own) == 1)

    spec = ToolSpec("kv.look", "Look a key up.", LookIn, LookOut, look, policy_hint="read")
    steps = [{"tool_calls": [call("kv.look", key=k) for k in "abc"]}, {"text": "done"}]
    writes: list[int] = []
    real_write = os.write

    def counting_write(fd: int, data: Any) -> int:
        writes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr("planner.transcript.os.write", counting_write)
    seen: list[AnyEvent] = []
    tee = TeeTranscript(FileTranscript(path), seen.append)
    inp, _ = make_input(steps, [spec], transcript=tee)
    result = await run_planner_loop(inp)
    tee.file.close()

    on_disk = kinds(path)
    assert result.stop_reason == "assistant_stop"
    assert [e.type for e in seen] == on_disk[1:]  # the header is the file's own
    assert len(writes) < len(on_disk)
    results = [e for e in seen if isinstance(e, ToolResultEvent)]
    assert [r.data for r in results] == [{"saw_own_call": True}] * 3
