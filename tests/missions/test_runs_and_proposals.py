"""Running missions over the real toolkits: the run store, plan-only proposals, approvals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from missions.app import App
from missions.config import MissionConfig, PolicyConfig, load_mission
from missions.planonly import approve, reject
from missions.runner import run_mission
from missions.store import ProposalStateError
from planner import PolicyMode, StopReason, ToolContext
from planner.models import ScriptedModel
from planner.transcript import RunFinished, read_transcript
from toolkits.seed import seed_demo

ROOT = Path(__file__).resolve().parents[2]


def digest(tmp_path: Path) -> tuple[MissionConfig, Path]:
    path = ROOT / "configs" / "missions" / "notes-digest.toml"
    return load_mission(path), path


async def open_todos(app: App, user: str = "demo") -> list[str]:
    spec = app.tools.get("todo.list")
    assert spec is not None
    ctx = ToolContext(user, f"personal:{user}")
    out = await spec.handler(ctx, spec.input_model.model_validate({"status": "all"}))
    return [t.title for t in out.todos]


async def test_weekly_review_runs_and_is_recorded(app: App) -> None:
    path = ROOT / "configs" / "missions" / "weekly-review.toml"
    cfg = load_mission(path)
    await seed_demo(app.store, app.vault, cfg.user_id, media_dir=app.settings.var_dir / "media")
    model = ScriptedModel.from_file(ROOT / "configs" / "demo" / "weekly-review.steps.json")
    run = await run_mission(cfg, app, model=model, mission_path=path)
    assert run.result.stop_reason is StopReason.ASSISTANT_STOP
    assert [e.call.name for e in run.result.executed_calls] == [
        "todo.list",
        "habits.list",
        "task",
        "journal.add",
    ]
    assert all(e.result.success for e in run.result.executed_calls)
    record = await app.runs.get_run(run.run_id)
    assert record is not None
    assert record.stop_reason == "assistant_stop" and record.rounds == 4
    assert record.input_tokens == run.result.usage.input_tokens
    assert record.transcript_path == str(run.transcript_path)
    assert run.transcript_path.parent == app.settings.runs_dir / "weekly-review"
    assert isinstance(list(read_transcript(run.transcript_path))[-1], RunFinished)
    assert [r.id for r in await app.runs.list_runs("weekly-review")] == [run.run_id]


async def test_plan_only_reads_run_and_writes_become_proposals(app: App, tmp_path: Path) -> None:
    cfg, path = digest(tmp_path)
    await seed_demo(app.store, app.vault, "demo", media_dir=app.settings.var_dir / "media")
    before = await open_todos(app)
    model = ScriptedModel(
        [
            {
                "tool_calls": [
                    {"name": "notes.search", "id": "c1", "arguments": {"query": "Lisbon"}}
                ]
            },
            {
                "tool_calls": [
                    {"name": "todo.create", "id": "c2", "arguments": {"title": "Plan Lisbon"}},
                    {"name": "todo.create", "id": "c3", "arguments": {"title": "Buy Piranesi"}},
                ]
            },
            {"text": "Two to-dos proposed."},
        ]
    )
    run = await run_mission(cfg, app, model=model, mission_path=path)
    calls = run.result.executed_calls
    assert calls[0].result.success and calls[0].result.data["matches"]
    for e in calls[1:]:
        assert e.result.success
        assert e.result.message.startswith("recorded - pending approval (proposal P-")
        assert e.result.data is None
    tool_msg = json.loads(run.result.messages[4].content)
    assert tool_msg == {"success": True, "message": calls[1].result.message}
    assert await open_todos(app) == before  # nothing written yet

    pending = await app.runs.list_proposals("pending", run_id=run.run_id)
    assert [p.tool for p in pending] == ["todo.create", "todo.create"]
    assert pending[0].arguments == {"title": "Plan Lisbon"}
    assert pending[0].space_id == "personal:demo" and pending[0].user_id == "demo"

    approved = await approve(app.runs, pending[0].id, app.tools)
    assert approved.status == "approved"
    assert approved.result is not None and approved.result["success"] is True
    assert "Plan Lisbon" in await open_todos(app)
    with pytest.raises(ProposalStateError, match="is approved, not pending"):
        await approve(app.runs, pending[0].id, app.tools)

    rejected = await reject(app.runs, pending[1].id)
    assert rejected.status == "rejected"
    with pytest.raises(ProposalStateError, match="is rejected, not pending"):
        await approve(app.runs, pending[1].id, app.tools)
    assert "Buy Piranesi" not in await open_todos(app)


async def test_approve_goes_through_the_gate_in_enforce_mode(app: App, tmp_path: Path) -> None:
    cfg, _path = digest(tmp_path)
    # log-only at run time: the destructive call is proposed rather than denied
    cfg = cfg.model_copy(
        update={"tools": ["todo.*"], "policy": PolicyConfig(mode=PolicyMode.LOG_ONLY)}
    )
    await seed_demo(app.store, app.vault, "demo", media_dir=app.settings.var_dir / "media")
    model = ScriptedModel(
        [
            {"tool_calls": [{"name": "todo.delete", "id": "d1", "arguments": {"todoId": "x"}}]},
            {"text": "proposed"},
        ]
    )
    run = await run_mission(cfg, app, model=model, mission_path=None)
    assert run.result.executed_calls[0].result.message.startswith("recorded - pending")
    (proposal,) = await app.runs.list_proposals("pending", run_id=run.run_id)
    done = await approve(app.runs, proposal.id, app.tools)
    assert done.status == "failed"
    assert done.result is not None
    assert done.result["message"].startswith(
        "Tool todo.delete not allowed: destructive-not-allowed"
    )
