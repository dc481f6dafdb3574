"""Spans (GenAI conventions) from a mission run, with sub-agents as child spans; log events."""

from __future__ import annotations

from pathlib import Path

import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from missions.app import App
from missions.config import load_mission
from missions.runner import run_mission
from planner.models import ScriptedModel
from toolkits.seed import seed_demo

ROOT = Path(__file__).resolve().parents[2]


async def test_run_model_and_tool_spans_with_sub_agent_children(app: App) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    path = ROOT / "configs" / "missions" / "weekly-review.toml"
    cfg = load_mission(path)
    await seed_demo(app.store, app.vault, cfg.user_id, media_dir=app.settings.var_dir / "media")
    model = ScriptedModel.from_file(ROOT / "configs" / "demo" / "weekly-review.steps.json")
    with structlog.testing.capture_logs() as logs:
        run = await run_mission(
            cfg, app, model=model, mission_path=path, tracer=provider.get_tracer("test")
        )
    spans = {s.name: s for s in exporter.get_finished_spans()}
    names = [s.name for s in exporter.get_finished_spans()]
    root = spans["invoke_agent weekly-review"]
    assert root.parent is None
    assert root.attributes is not None
    assert root.attributes["gen_ai.conversation.id"] == run.run_id
    assert root.attributes["gen_ai.usage.input_tokens"] == run.result.usage.input_tokens
    chats = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]
    assert len(chats) == 6  # 4 parent rounds + 2 sub-agent rounds
    first = chats[0].attributes
    assert first is not None and first["gen_ai.usage.input_tokens"] == 1480
    assert first["gen_ai.operation.name"] == "chat"
    assert names.count("execute_tool todo.list") == 1
    task = spans["execute_tool task"]
    sub = spans["invoke_agent research"]
    assert sub.parent is not None and sub.parent.span_id == task.context.span_id
    searches = [s for s in exporter.get_finished_spans() if s.name == "execute_tool notes.search"]
    assert len(searches) == 2
    assert all(s.parent is not None and s.parent.span_id == sub.context.span_id for s in searches)
    assert task.parent is not None and task.parent.span_id == root.context.span_id

    events = [e["event"] for e in logs]
    assert events.count("model.response") == 6
    assert "run.started" in events and "run.finished" in events
    bound = next(e for e in logs if e["event"] == "model.response")
    assert bound["model"].startswith("scripted:")
