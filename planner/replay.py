"""Replay a transcript through the same loop and report the first divergence."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from planner.errors import TranscriptError
from planner.loop import PlannerLoopInput, PlannerLoopResult, run_planner_loop
from planner.models.replay import ReplayModel
from planner.output import recorded_output_model
from planner.policy import PolicyGate, PolicyMode
from planner.state import ReminderChannel
from planner.subagents import (
    SUBAGENTS_SETTING,
    TASK_TOOL,
    SubAgentModelFor,
    SubAgentSpec,
    ToolFilter,
    with_subagents,
)
from planner.tools import (
    AnyToolSpec,
    ToolContext,
    ToolRegistry,
    ToolResult,
    ToolSpec,
    read_tools_are_parallel_safe,
)
from planner.transcript import (
    MemoryTranscript,
    RequestEvent,
    RunStarted,
    ToolInfo,
    ToolResultEvent,
    Transcript,
    TranscriptEvent,
    read_transcript,
)


class _AnyInput(BaseModel):
    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True)
class Divergence:
    """The first request that differs from the recorded one; `path` locates a sub-agent."""

    round: int
    what: str
    diff: str
    path: str = ""

    @property
    def where(self) -> str:
        """Round, and for a sub-agent its call id and sub-round."""
        if not self.path:
            return f"round {self.round}"
        return f"sub-agent at call {self.path}, sub-round {self.round}"


@dataclass(frozen=True)
class ReplayReport:
    """What a replay found: identical, or the first divergence."""

    result: PlannerLoopResult
    divergence: Divergence | None
    requests_compared: int

    @property
    def identical(self) -> bool:
        """True when every request matched the recorded one."""
        return self.divergence is None


@dataclass(frozen=True)
class RecordedRun:
    """A transcript split into what replay needs."""

    started: RunStarted
    events: list[TranscriptEvent]

    @classmethod
    def load(cls, path: str | Path) -> RecordedRun:
        """Read a transcript and find its run_started event."""
        events = list(read_transcript(path))
        started = next((e for e in events if isinstance(e, RunStarted) and not e.path), None)
        if started is None:
            raise TranscriptError(f"{path}: no run_started event")
        return cls(started, events)

    def requests(self) -> list[RequestEvent]:
        """Every recorded request, sub-agents' included, in the order they were made."""
        return [e for e in self.events if isinstance(e, RequestEvent)]

    def results(self) -> dict[tuple[str, str], ToolResult]:
        """Recorded tool results by (run id, call id)."""
        return {
            (e.run_id, e.call_id): ToolResult(e.success, e.message, e.data, e.usage)
            for e in self.events
            if isinstance(e, ToolResultEvent)
        }


def recorded_tools(run: RecordedRun) -> ToolRegistry:
    """Stand-in tools with the recorded schemas that return the recorded results."""
    results = run.results()

    def stub(info: ToolInfo) -> AnyToolSpec:
        async def handler(ctx: ToolContext, _inp: _AnyInput) -> ToolResult:
            recorded = results.get((ctx.run_id, ctx.call_id))
            if recorded is None:
                return ToolResult(False, f"replay: no recorded result for call {ctx.call_id}")
            return recorded

        return ToolSpec(
            name=info.name,
            description=info.description,
            input_model=_AnyInput,
            output_model=_AnyInput,
            handler=handler,
            scope=info.scope,  # type: ignore[arg-type]
            policy_hint=info.policy_hint,  # type: ignore[arg-type]
            input_schema_override=info.input_schema,
        )

    return ToolRegistry(stub(t) for t in run.started.tools if t.name != TASK_TOOL)


def recorded_subagents(run: RecordedRun) -> tuple[SubAgentSpec, ...]:
    """Sub-agent kinds rebuilt from the transcript: same names, tools, rounds and prompts."""

    def keeps(names: frozenset[str]) -> ToolFilter:
        return lambda spec: spec.name in names

    # recorded in the run settings; transcripts before the plug-in kept them in `loop`
    started = run.started
    kinds = started.settings.get(SUBAGENTS_SETTING) or started.loop.get("subagents", ())
    return tuple(
        SubAgentSpec(
            name=s["name"],
            description=s.get("description", ""),
            tools=keeps(frozenset(s.get("tools", ()))),
            max_rounds=s.get("max_rounds", 5),
            system_prompt=s.get("system_prompt"),
        )
        for s in kinds
    )


def live_tools(tools: ToolRegistry, allow_writes: bool = False) -> ToolRegistry:
    """Tools for a live replay: reads run live; writes and destructive tools refuse with an
    error result unless `allow_writes`, so a replay cannot change data by surprise."""
    if allow_writes:
        return tools

    def refusing(spec: AnyToolSpec) -> AnyToolSpec:
        async def refuse(_ctx: ToolContext, _inp: Any) -> ToolResult:
            return ToolResult(
                False,
                f"replay: {spec.policy_hint} tool {spec.name} not run live "
                "(replay with --allow-writes to run it)",
            )

        return replace(spec, handler=refuse)

    return ToolRegistry(s if s.policy_hint == "read" else refusing(s) for s in tools)


def replay_input(
    run: RecordedRun,
    *,
    tools: ToolRegistry | None = None,
    reminder_channel: ReminderChannel | None = None,
    transcript: Transcript | None = None,
    subagent_model: SubAgentModelFor | None = None,
    output_model: type[BaseModel] | None = None,
) -> PlannerLoopInput:
    """The loop input that re-runs a recorded run with its recorded responses.

    `subagent_model` picks each sub-agent's model (default: its recorded responses); fork
    uses it to switch sub-agents to the live model from the fork round on. The output model is
    `output_model`, else the one the transcript names (imported by its ref).
    """
    s, loop = run.started, run.started.loop
    mode = loop.get("policy_mode")
    gate = PolicyGate(mode=PolicyMode.parse(mode, "transcript policy_mode")) if mode else None
    registry = tools if tools is not None else recorded_tools(run)
    inp = PlannerLoopInput(
        model=ReplayModel.from_events(run.events),
        system_prompt=s.system_prompt,
        user_prompt=s.user_prompt,
        tools=registry,
        context=ToolContext(
            user_id=loop.get("user_id", ""),
            space_id=loop.get("space_id", ""),
            run_id=loop.get("run_id", ""),
            invoker=loop.get("invoker", "mission"),
        ),
        prior_messages=s.prior_messages,
        policy=gate,
        reminder_channel=reminder_channel,
        is_parallel_safe=read_tools_are_parallel_safe if loop.get("parallel") else None,
        max_rounds=loop.get("max_rounds", 5),
        max_tool_calls=loop.get("max_tool_calls"),
        token_budget=loop.get("token_budget"),
        cost_budget_usd=loop.get("cost_budget_usd"),
        transcript=transcript,
        settings={k: v for k, v in s.settings.items() if k != SUBAGENTS_SETTING},
        output_model=output_model or recorded_output_model(s.output),
    )
    return with_subagents(
        inp,
        recorded_subagents(run),
        model_for=subagent_model or (lambda _kind, path: ReplayModel.from_events(run.events, path)),
    )


def _dump(value: Any) -> list[str]:
    return json.dumps(value, indent=1, sort_keys=True, default=str).splitlines()


def compare_requests(
    recorded: Sequence[RequestEvent], replayed: Sequence[RequestEvent]
) -> Divergence | None:
    """The first recorded request (in recorded order) that the replay did not make alike."""
    by_path: dict[str, list[RequestEvent]] = {}
    for event in replayed:
        by_path.setdefault(event.path, []).append(event)
    seen: dict[str, int] = {}
    for old in recorded:
        index = seen.get(old.path, 0)
        seen[old.path] = index + 1
        candidates = by_path.get(old.path, [])
        if index >= len(candidates):
            return Divergence(old.round, "request missing in the replay", "", old.path)
        found = _differs(old, candidates[index])
        if found is not None:
            return found
    for path, events in by_path.items():
        if len(events) > seen.get(path, 0):
            extra = events[seen.get(path, 0)]
            return Divergence(extra.round, "extra request in the replay", "", path)
    return None


def _differs(old: RequestEvent, new: RequestEvent) -> Divergence | None:
    for what in ("messages_added", "reminders"):
        a = _dump([_plain(x) for x in getattr(old, what)])
        b = _dump([_plain(x) for x in getattr(new, what)])
        if a != b:
            diff = "\n".join(difflib.unified_diff(a, b, "recorded", "replayed", lineterm="", n=2))
            return Divergence(old.round, what.replace("_", " "), diff, old.path)
    return None


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


async def replay_run(
    run: RecordedRun,
    *,
    tools: ToolRegistry | None = None,
    reminder_channel: ReminderChannel | None = None,
    output_model: type[BaseModel] | None = None,
) -> ReplayReport:
    """Re-run a recorded run and compare every request with the recorded one."""
    memory = MemoryTranscript()
    inp = replay_input(
        run,
        tools=tools,
        reminder_channel=reminder_channel,
        transcript=memory,
        output_model=output_model,
    )
    result = await run_planner_loop(inp)
    replayed = [e for e in memory.events if isinstance(e, RequestEvent)]
    recorded = run.requests()
    return ReplayReport(result, compare_requests(recorded, replayed), len(replayed))
