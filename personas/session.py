"""One persona session: set up the persona's user and spaces, run the loop, rate, store.

The loop's tools come from a `ToolOpener` (the MCP gateway in production): the persona drives
the app through exactly what an outside client sees. The gateway gates every call; the
session keeps each call's outcome (ok, error, denied, flagged), the transcript and the rating.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import anyio
import structlog

from personas.config import PERSONAL, PersonaConfig, module_of
from personas.gateway import SessionTools, ToolOpener
from personas.rating import RatingOutcome, rate_session
from personas.scripted import is_scripted_spec, scripted_persona_model
from personas.store import CallRecord, FeedbackRecord, Outcome, SessionRecord, SqlPersonaStore
from planner import (
    ExecutedCall,
    FileTranscript,
    Model,
    PlannerLoopInput,
    PlannerLoopResult,
    ToolContext,
    find_injection,
    from_spec,
    read_tools_are_parallel_safe,
    run_planner_loop,
)
from toolkits import Store, add_member, create_space, get_space, membership, personal_space_id

log = structlog.get_logger("personas.session")
DENIED_RE = re.compile(r"\bTool \S+ not allowed: ")
SESSION_ERROR = "session_error"
ModelFor = Callable[[PersonaConfig], Model]
Trigger = str


def default_model_for(persona: PersonaConfig) -> Model:
    """A fresh model for one session: the offline driver for `scripted-persona`, else the spec."""
    if is_scripted_spec(persona.model):
        return scripted_persona_model(persona, spec=persona.model)
    return from_spec(persona.model)


def new_session_id(persona_id: str) -> str:
    """A sortable, unique session id."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{persona_id}-{secrets.token_hex(3)}"


@dataclass
class PersonaRuntime:
    """What sessions need: the app store, the persona store, the tool opener and a model."""

    store: Store
    personas: SqlPersonaStore
    tools: ToolOpener
    runs_dir: Path = Path("runs")
    model_for: ModelFor = default_model_for
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class PersonaSession:
    """A finished session: its row, its calls, its feedback and the loop's result."""

    record: SessionRecord
    calls: list[CallRecord] = field(default_factory=list)
    feedback: FeedbackRecord | None = None
    result: PlannerLoopResult | None = None


async def ensure_persona(store: Store, personas: SqlPersonaStore, persona: PersonaConfig) -> str:
    """Create the persona's user (kind persona), personal space and shared spaces; the space id
    sessions act in."""
    user = persona.user_id
    await personas.register_user(persona.id, user)
    await store.personal_space(user)
    async with store.transaction() as conn:
        for shared in persona.spaces:
            if await get_space(conn, shared.id) is None:
                await create_space(conn, user, shared.type, shared.name, store.clock(), shared.id)
            member = await membership(conn, user, shared.id)
            if member is None:
                await add_member(conn, shared.id, user, shared.role, store.clock())
    return personal_space_id(user) if persona.space == PERSONAL else persona.space


def system_prompt(persona: PersonaConfig, space_id: str) -> str:
    """Who the persona is, what they want, where they spend time, and the tool-use nudge."""
    goals = "\n".join(f"- {g}" for g in persona.goals)
    mix = ", ".join(f"{m} {share:.0%}" for m, share in persona.module_share().items())
    nudge = persona.tools
    return (
        f"{persona.system_prompt.strip()}\n\n"
        f"You are {persona.name} ({persona.archetype}), a real user of the mana app, using it "
        f"through its tools. Stay in character; write in language `{persona.language}`.\n"
        f"Your goals:\n{goals}\n"
        f"How you split your time in the app: {mix}.\n"
        f"The tools act on your space {space_id} ({persona.space_type}).\n"
        f"Use between {nudge.min} and {nudge.max} tools this session, the way this person "
        "would, then stop and say in one or two sentences how it went. If something fails, "
        "react as this person would: retry once, work around it, or give up."
    )


def user_prompt(persona: PersonaConfig, now: float) -> str:
    """The session's opening: the persona's local day and time."""
    local = datetime.fromtimestamp(now, UTC).astimezone(persona.zone)
    return (
        f"It is {local:%A %Y-%m-%d, %H:%M} ({persona.timezone}). You open the app. "
        "Get on with what you came to do."
    )


def outcome_of(executed: ExecutedCall, verdicts: dict[str, str]) -> Outcome:
    """ok, error, denied (the gate refused it) or flagged (the gate flagged it, it ran)."""
    if not executed.result.success:
        return "denied" if DENIED_RE.search(executed.result.message) else "error"
    if executed.call.id in verdicts or find_injection(executed.call.arguments) is not None:
        return "flagged"
    return "ok"


def call_records(
    session_id: str,
    persona_id: str,
    executed: Sequence[ExecutedCall],
    verdicts: dict[str, str],
    now: float,
) -> list[CallRecord]:
    """The stored form of a session's calls."""
    return [
        CallRecord(
            session_id=session_id,
            persona_id=persona_id,
            seq=i,
            round=e.round,
            call_id=e.call.id,
            tool=e.call.name,
            module=module_of(e.call.name),
            outcome=outcome_of(e, verdicts),
            duration_ms=round(e.duration_ms, 3),
            message=e.result.message,
            created_at=now,
        )
        for i, e in enumerate(executed)
    ]


def feedback_record(
    session_id: str, persona_id: str, rating: RatingOutcome, now: float
) -> FeedbackRecord:
    """The stored form of the rating turn."""
    fb = rating.feedback
    return FeedbackRecord(
        session_id=session_id,
        persona_id=persona_id,
        created_at=now,
        valid=fb is not None,
        attempts=rating.attempts,
        ratings=dict(fb.ratings) if fb else {},
        friction=list(fb.friction) if fb else [],
        bugs=list(fb.bugs) if fb else [],
        comment=fb.comment if fb else "",
        raw=rating.raw,
        error=rating.error,
    )


def finished_record(
    record: SessionRecord, result: PlannerLoopResult, calls: Sequence[CallRecord], at: float
) -> SessionRecord:
    """The session's row once its loop has ended: stop reason, counts per outcome and usage."""
    counts = {o: sum(1 for c in calls if c.outcome == o) for o in ("error", "denied", "flagged")}
    return replace(
        record,
        finished_at=at,
        stop_reason=result.stop_reason.value,
        rounds=result.rounds,
        tool_calls=len(calls),
        errors=counts["error"],
        denials=counts["denied"],
        flagged=counts["flagged"],
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        cost_usd=result.usage.cost_usd,
        error=result.error,
    )


async def run_session(
    persona: PersonaConfig,
    rt: PersonaRuntime,
    *,
    trigger: Trigger = "manual",
    session_id: str | None = None,
) -> PersonaSession:
    """Run one session end to end; a failure to reach the app is stored, not raised."""
    sid = session_id or new_session_id(persona.id)
    started = rt.clock()
    record = SessionRecord(
        id=sid,
        persona_id=persona.id,
        user_id=persona.user_id,
        space_id=persona.space,
        trigger=trigger,
        started_at=started,
    )
    try:
        space_id = await ensure_persona(rt.store, rt.personas, persona)
        model = rt.model_for(persona)
        path = rt.runs_dir / "personas" / persona.id / f"{sid}.jsonl"
        record = replace(record, space_id=space_id, model=model.model_id, transcript_path=str(path))
        await rt.personas.record_session(record)
        async with rt.tools.open(persona.user_id, space_id) as tools:
            result = await _loop(persona, model, tools, sid, space_id, path, started)
            verdicts = dict(tools.verdicts)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("persona.session_failed", persona=persona.id, session=sid, error=error)
        failed = replace(record, finished_at=rt.clock(), stop_reason=SESSION_ERROR, error=error)
        await rt.personas.record_session(failed)
        return PersonaSession(failed)
    finished = rt.clock()
    calls = call_records(sid, persona.id, result.executed_calls, verdicts, finished)
    modules = sorted({c.module for c in calls})
    rating = await rate_session(model, system_prompt(persona, space_id), result.messages, modules)
    feedback = feedback_record(sid, persona.id, rating, rt.clock())
    done = finished_record(record, result, calls, finished)
    await rt.personas.add_calls(calls)
    await rt.personas.add_feedback(feedback)
    await rt.personas.record_session(done)
    log.info(
        "persona.session",
        persona=persona.id,
        session=sid,
        stop=done.stop_reason,
        calls=len(calls),
        feedback="valid" if feedback.valid else "invalid",
    )
    return PersonaSession(done, calls, feedback, result)


async def _loop(
    persona: PersonaConfig,
    model: Model,
    tools: SessionTools,
    sid: str,
    space_id: str,
    path: Path,
    started: float,
) -> PlannerLoopResult:
    """The session's planner loop over the persona's modules, recorded to `path`."""
    registry = tools.registry.filter(lambda spec: persona.uses(spec.name))
    with FileTranscript(path) as transcript:
        return await run_planner_loop(
            PlannerLoopInput(
                model=model,
                system_prompt=system_prompt(persona, space_id),
                user_prompt=user_prompt(persona, started),
                tools=registry,
                context=ToolContext(
                    user_id=persona.user_id, space_id=space_id, run_id=sid, invoker="mcp"
                ),
                is_parallel_safe=read_tools_are_parallel_safe,
                max_rounds=persona.max_turns,
                transcript=transcript,
                settings={
                    "persona": persona.id,
                    "space_id": space_id,
                    "modules": persona.modules,
                    "kind": "persona-session",
                },
            )
        )


async def run_sessions(
    personas: Sequence[PersonaConfig],
    rt: PersonaRuntime,
    *,
    concurrency: int = 2,
    trigger: Trigger = "manual",
    limiter: anyio.CapacityLimiter | None = None,
) -> list[PersonaSession]:
    """Run a session per persona, at most `concurrency` at a time; results in input order."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    window = limiter or anyio.CapacityLimiter(concurrency)
    results: list[PersonaSession | None] = [None] * len(personas)

    async def one(i: int, persona: PersonaConfig) -> None:
        async with window:
            results[i] = await run_session(persona, rt, trigger=trigger)

    async with anyio.create_task_group() as tg:
        for i, persona in enumerate(personas):
            tg.start_soon(one, i, persona)
    return [r for r in results if r is not None]
