"""Fork a recorded run: replay it up to a round, then go on live with another model or prompt.

Rounds before the fork round take their responses and tool results from the recording (no
model is called for them); from the fork round on, the live model answers and, with live
tools, the real tools run. The new transcript's header names the parent and the fork round.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from planner.errors import ForkError
from planner.loop import PlannerLoopResult, run_planner_loop
from planner.messages import ModelRequest, ModelResponse
from planner.models.base import Model
from planner.models.replay import ReplayModel
from planner.replay import RecordedRun, recorded_tools, replay_input
from planner.state import ReminderChannel
from planner.tools import AnyToolSpec, ToolContext, ToolRegistry, ToolResult
from planner.transcript import FileTranscript, Header, RequestEvent, ToolResultEvent


@dataclass
class ForkClock:
    """The top-level round the fork is in: tool calls and sub-agents read it."""

    at: int
    round: int = 0

    @property
    def recorded(self) -> bool:
        """True while the run is still in the recorded rounds."""
        return self.round < self.at


class ForkModel:
    """Recorded responses before the fork round, the live model from it on."""

    def __init__(self, recorded: ReplayModel, live: Model, clock: ForkClock) -> None:
        self.recorded = recorded
        self.live = live
        self.clock = clock

    @property
    def model_id(self) -> str:
        """The live model's id: the one the fork is about."""
        return self.live.model_id

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Play the recording for early rounds; ask the live model from the fork round on."""
        self.clock.round = request.round
        if self.clock.recorded:
            return await self.recorded.complete(request)
        return await self.live.complete(request)


@dataclass(frozen=True)
class ForkResult:
    """The forked run's result and where its transcript is."""

    result: PlannerLoopResult
    transcript_path: Path
    run_id: str


def _recorded_results(run: RecordedRun, root: str) -> dict[tuple[str, str], ToolResult]:
    """Recorded results by (run id below the root, call id), so a new root id still finds them."""
    return {
        (e.run_id.removeprefix(root), e.call_id): ToolResult(e.success, e.message, e.data, e.usage)
        for e in run.events
        if isinstance(e, ToolResultEvent)
    }


def fork_tools(
    run: RecordedRun, clock: ForkClock, new_root: str, live: ToolRegistry | None
) -> ToolRegistry:
    """Each recorded tool: its recorded result before the fork round, then live or recorded."""
    base = recorded_tools(run)
    results = _recorded_results(run, str(run.started.loop.get("run_id", "")))

    def wrap(spec: AnyToolSpec) -> AnyToolSpec:
        live_spec = live.get(spec.name) if live is not None else None
        chosen = live_spec or spec

        async def handler(ctx: ToolContext, inp: object) -> object:
            if clock.recorded or live_spec is None:
                found = results.get((ctx.run_id.removeprefix(new_root), ctx.call_id))
                if found is None:
                    return ToolResult(False, f"fork: no recorded result for call {ctx.call_id}")
                return found
            return await live_spec.handler(ctx, inp)

        return replace(chosen, handler=handler)

    return ToolRegistry(wrap(s) for s in base)


def fork_path(parent: Path, at: int) -> Path:
    """Where a fork's transcript goes by default: beside its parent."""
    return parent.with_name(f"{parent.stem}.fork-r{at}-{secrets.token_hex(3)}.jsonl")


async def fork(
    transcript: str | Path,
    at: int,
    *,
    model: Model | None = None,
    system_prompt: str | None = None,
    tools: ToolRegistry | None = None,
    reminder_channel: ReminderChannel | None = None,
    out: str | Path | None = None,
) -> ForkResult:
    """Replay `transcript` up to round `at`, then run live; write and return the new transcript.

    `model` answers from round `at` on (the recorded model's responses are all a recording
    holds, so without one the fork replays what it can and then fails with `model_error`);
    `tools` are the live tools for round `at` on (None keeps the recorded results).
    """
    parent = Path(transcript)
    run = RecordedRun.load(parent)
    rounds = sum(1 for e in run.events if isinstance(e, RequestEvent) and not e.path)
    if not 1 <= at <= rounds:
        raise ForkError(f"{parent}: --at {at} is not a round of this run (it has 1..{rounds})")
    clock = ForkClock(at)
    recorded = ReplayModel.from_events(run.events)
    live = model or recorded
    root = f"{run.started.loop.get('run_id') or 'run'}-fork{at}-{secrets.token_hex(2)}"

    def subagent_model(_kind: str, path: str) -> Model | None:
        return ReplayModel.from_events(run.events, path) if clock.recorded else live

    path = Path(out) if out is not None else fork_path(parent, at)
    header = Header(parent_transcript=str(parent), fork_round=at)
    with FileTranscript(path, header=header) as sink:
        base = replay_input(
            run,
            tools=fork_tools(run, clock, root, tools),
            reminder_channel=reminder_channel,
            transcript=sink,
            subagent_model=subagent_model,
        )
        inp = replace(
            base,
            model=ForkModel(recorded, live, clock),
            system_prompt=base.system_prompt if system_prompt is None else system_prompt,
            context=replace(base.context, run_id=root),
            settings={**base.settings, "forked_from": str(parent), "fork_round": at},
        )
        result = await run_planner_loop(inp)
    return ForkResult(result, path, root)
