"""Run one mission: build tools, gate and reminders, run the loop, write the transcript."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from missions.config import MissionConfig
from missions.subagents import subagent_specs
from planner import (
    PlannerLoopInput,
    PlannerLoopResult,
    PolicyGate,
    PolicyMode,
    ToolContext,
    ToolRegistry,
    UserPolicySettings,
    run_planner_loop,
)
from planner.models import Model
from planner.models.spec import from_spec
from planner.tools import read_tools_are_parallel_safe
from planner.transcript import EventBase, FileTranscript
from reminders import build_channel

EventSink = Callable[[EventBase], None]


@dataclass(frozen=True)
class MissionRun:
    """One finished run of a mission."""

    run_id: str
    mission_id: str
    result: PlannerLoopResult
    transcript_path: Path
    started_at: float
    finished_at: float
    model_id: str


class TeeTranscript:
    """A file transcript that also hands each event to a live sink (progress display)."""

    def __init__(self, file: FileTranscript, sink: EventSink | None) -> None:
        self.file = file
        self.sink = sink

    def record(self, event: EventBase) -> None:
        """Write the event, then show it."""
        self.file.record(event)
        if self.sink is not None:
            self.sink(event)


def new_run_id() -> str:
    """A sortable, unique run id."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def policy_gate(cfg: MissionConfig, mode: PolicyMode | None = None) -> PolicyGate:
    """The mission's gate: its mode override (else POLICY_MODE), opt-ins and rate limits."""
    settings = UserPolicySettings(
        allow_destructive=frozenset(cfg.policy.allow_destructive),
        per_tool_rate_limit=dict(cfg.policy.rate_limits),
    )
    return PolicyGate(mode=mode or cfg.policy.mode, settings_for=lambda _user: settings)


def mission_settings(cfg: MissionConfig, mission_path: Path | None) -> dict[str, Any]:
    """What the transcript records so replay can rebuild reminders and tools."""
    return {
        "mission": cfg.id,
        "mission_path": str(mission_path) if mission_path else None,
        "mode": cfg.mode,
        "reminders": cfg.reminders,
        "tools": cfg.tools,
    }


def build_input(
    cfg: MissionConfig,
    available: ToolRegistry,
    model: Model,
    run_id: str,
    space_id: str,
    transcript: Any = None,
    mission_path: Path | None = None,
) -> PlannerLoopInput:
    """The loop input for one run of `cfg`, over the tools its patterns select."""
    limits = cfg.limits
    return PlannerLoopInput(
        model=model,
        system_prompt=cfg.system_prompt,
        user_prompt=cfg.objective,
        tools=available.filter(lambda spec: cfg.selects(spec.name)),
        context=ToolContext(user_id=cfg.user_id, space_id=space_id, run_id=run_id),
        policy=policy_gate(cfg),
        reminder_channel=build_channel(cfg.reminders, f"{cfg.id}: reminders"),
        is_parallel_safe=read_tools_are_parallel_safe if cfg.parallel_reads else None,
        max_rounds=limits.max_rounds,
        max_tool_calls=limits.max_tool_calls,
        token_budget=limits.token_budget,
        cost_budget_usd=limits.cost_budget_usd,
        timeout_s=limits.timeout_s,
        transcript=transcript,
        settings=mission_settings(cfg, mission_path),
        subagents=subagent_specs(cfg),
    )


async def run_mission(
    cfg: MissionConfig,
    available: ToolRegistry,
    *,
    runs_dir: Path = Path("runs"),
    model: Model | None = None,
    model_spec: str | None = None,
    space_id: str | None = None,
    run_id: str | None = None,
    mission_path: Path | None = None,
    on_event: EventSink | None = None,
) -> MissionRun:
    """Run a mission once, writing its transcript to runs/<mission>/<run_id>.jsonl."""
    rid = run_id or new_run_id()
    chosen = model or from_spec(model_spec or cfg.model)
    path = runs_dir / cfg.id / f"{rid}.jsonl"
    started = time.time()
    with FileTranscript(path) as file:
        inp = build_input(
            cfg,
            available,
            chosen,
            rid,
            space_id or cfg.space_id or f"personal:{cfg.user_id}",
            TeeTranscript(file, on_event),
            mission_path,
        )
        result = await run_planner_loop(inp)
    return MissionRun(rid, cfg.id, result, path, started, time.time(), chosen.model_id)
