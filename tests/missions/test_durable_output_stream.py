"""Structured output and streaming through a durable (DBOS) mission run: the output model is
threaded through the workflow, and text deltas reach a feed from inside its model step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from dbos import DBOS
from pydantic import BaseModel

from missions.config import MissionConfig
from missions.durable import DBOSEngine
from planner import ModelRequest, ModelResponse, StopReason, TextDelta, ToolRegistry
from planner.models.base import emit_text
from planner.stream import EventFeed, RunEvent, with_deltas


class Verdict(BaseModel):
    ok: bool
    why: str


class Streaming:
    """Streams a Verdict's JSON in pieces, as a streaming adapter does."""

    model_id = "streaming"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        text = json.dumps({"ok": True, "why": "all good"})
        for i in range(0, len(text), 7):
            emit_text(text[i : i + 7])
            await anyio.sleep(0)
        return ModelResponse(text=text)


@pytest.fixture
def engine_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    DBOS.destroy()


async def test_a_durable_run_validates_its_output_and_streams_its_text(engine_dir: Path) -> None:
    cfg = MissionConfig.model_validate(
        {
            "id": "durable-typed",
            "title": "typed",
            "objective": "Judge.",
            "model": "scripted:unused.json",
            "user_id": "ada",
            "space_id": "s1",
            "output": f"{__name__}:Verdict",
        }
    )
    engine = DBOSEngine.with_tools(
        ToolRegistry([]),
        db_url=f"sqlite:///{engine_dir / 'sys.sqlite'}",
        runs_dir=engine_dir / "runs",
        model_for=lambda _spec, **_options: Streaming(),
    )
    seen: list[RunEvent] = []
    feed = EventFeed(seen.append)
    engine.launch()
    try:
        run = await with_deltas(feed, engine.run(cfg, run_id="typed-1", on_event=feed.event))
    finally:
        engine.shutdown()
    assert run.result.stop_reason is StopReason.ASSISTANT_STOP, run.result.error
    assert run.result.output == Verdict(ok=True, why="all good")
    deltas = [e for e in seen if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and {d.round for d in deltas} == {1}
    assert "".join(d.text for d in deltas) == run.result.summary
