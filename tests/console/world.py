"""A console's world for tests: a recorded demo run in the run store, a plan-only mission run
with pending proposals, and a persona session that points at a transcript."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from missions.app import AppSettings, open_app
from missions.config import load_mission
from missions.runner import run_mission
from missions.store import RunRecord
from personas.store import SessionRecord, SqlPersonaStore
from planner.models import ScriptedModel
from planner.transcript import RunFinished, RunStarted, read_transcript
from tests.console.recording import record_demo

ROOT = Path(__file__).resolve().parents[2]
DIGEST = ROOT / "configs" / "missions" / "notes-digest.toml"


@dataclass(frozen=True)
class World:
    """Where the test console's stores and transcripts are."""

    settings: AppSettings
    demo_run: str
    digest_run: str
    session: str


def _todo(cid: str, title: str) -> dict[str, object]:
    return {"id": cid, "name": "todo.create", "arguments": {"title": title}}


async def _record_demo_run(settings: AppSettings) -> str:
    path = await record_demo(settings.runs_dir / "demo-review" / "run-demo.jsonl")
    events = list(read_transcript(path))
    start = next(e for e in events if isinstance(e, RunStarted) and not e.path)
    end = next(e for e in events if isinstance(e, RunFinished) and not e.path)
    u = end.usage
    record = RunRecord(
        "run-demo", "demo-review", start.ts, end.ts, end.stop_reason, end.rounds,
        end.tool_calls, u.input_tokens, u.output_tokens, u.cost_usd, start.model, str(path), None,
    )  # fmt: skip
    async with open_app(settings) as app:
        await app.runs.record_run(record)
    return record.id


async def build_world(root: Path) -> World:
    """Fill a fresh var folder and runs folder under `root`."""
    settings = AppSettings(var_dir=root / "var", runs_dir=root / "runs")
    demo = await _record_demo_run(settings)
    steps = [
        {"tool_calls": [_todo("t1", "Water the plants"), _todo("t2", "Call the bank")]},
        {"text": "Two to-dos proposed."},
    ]
    async with open_app(settings) as app:
        cfg = load_mission(DIGEST)
        digest = await run_mission(cfg, app, model=ScriptedModel(steps), mission_path=DIGEST)
        personas = await SqlPersonaStore(app.store.engine).create()
        await personas.record_session(
            SessionRecord(
                id="sess-maya-1", persona_id="maya", user_id="maya", space_id="s-maya",
                trigger="manual", started_at=digest.started_at, finished_at=digest.finished_at,
                stop_reason="assistant_stop", rounds=4, tool_calls=5,
                transcript_path=str(settings.runs_dir / "demo-review" / "run-demo.jsonl"),
            )
        )  # fmt: skip
    return World(settings, demo, digest.run_id, "sess-maya-1")
