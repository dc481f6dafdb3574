"""Persona schedules: due personas by cadence, on the missions' DBOS machinery.

The testable core is `tick(rt, personas, now, limiter)`: read each persona's last session and
the pause switches from the store, decide who is due (`personas.cadence`, clock injected), and
run their sessions through one `anyio.CapacityLimiter` (the concurrency limit).

On DBOS, `personas schedule` launches the missions' engine (same system database and executor
id) as a worker of its own DBOS application, `mana-planner-personas`, so mission workers never
fire or dequeue persona ticks and persona workers never run missions. It registers the queue
`mana-personas` and one schedule, `mana-personas-tick`,
that fires the workflow `mana.persona_tick` every `--every` (default 5 minutes). The
workflow's id is per slot, so however many workers run, a slot ticks once; inside it, the due
set is one step and each persona's session is one step (`persona:<id>`), so a tick recovered
after a crash does not repeat a finished session. Ticks run one at a time per worker (queue
concurrency 1); sessions within a tick share the concurrency limit.

The pause switch lives in the app database (`persona_switches`): `personas pause` stops one
persona or all of them on every worker from the next tick on, and survives restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import anyio
from dbos import DBOS

from missions import HOST, QUEUE_POLL_S, every_to_cron
from personas.cadence import DueCheck, due_personas
from personas.config import PersonaConfig, load_personas
from personas.session import PersonaRuntime, PersonaSession, run_session, run_sessions
from personas.store import ALL_PERSONAS, SqlPersonaStore

PERSONA_APP = "mana-planner-personas"
PERSONA_QUEUE = "mana-personas"
TICK_SCHEDULE = "mana-personas-tick"
TICK_WORKFLOW = "mana.persona_tick"
DEFAULT_EVERY_S = 300
DEFAULT_CONCURRENCY = 2


@dataclass(frozen=True)
class TickResult:
    """One tick: the decision per persona and the sessions it ran."""

    at: datetime
    checks: list[DueCheck]
    sessions: list[PersonaSession] = field(default_factory=list)

    @property
    def due(self) -> list[str]:
        """Ids of the personas that were due."""
        return [c.persona_id for c in self.checks if c.due]


async def due_now(
    store: SqlPersonaStore, personas: Sequence[PersonaConfig], now: datetime
) -> list[DueCheck]:
    """Who is due at `now`, from the store's last sessions and pause switches."""
    last = {
        pid: datetime.fromtimestamp(ts, UTC) for pid, ts in (await store.last_sessions()).items()
    }
    paused = await store.paused()
    return due_personas(
        personas,
        last,
        now,
        paused=paused - {ALL_PERSONAS},
        all_paused=ALL_PERSONAS in paused,
    )


async def tick(
    rt: PersonaRuntime,
    personas: Sequence[PersonaConfig],
    now: datetime,
    *,
    limiter: anyio.CapacityLimiter,
) -> TickResult:
    """Run every due persona's session under the shared concurrency limit."""
    checks = await due_now(rt.personas, personas, now)
    due_ids = {c.persona_id for c in checks if c.due}
    due = [p for p in personas if p.id in due_ids]
    sessions = await run_sessions(due, rt, trigger="schedule", limiter=limiter)
    return TickResult(now, checks, sessions)


# --- DBOS ------------------------------------------------------------------------------------

RuntimeFactory = Callable[[], AbstractAsyncContextManager[PersonaRuntime]]
"""Opens a PersonaRuntime (store, persona store, gateway tools) in the loop that runs a tick."""


@dataclass
class PersonaScheduler:
    """What the tick workflow runs with in this process."""

    runtime: RuntimeFactory
    configs: Path
    concurrency: int = DEFAULT_CONCURRENCY
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ticks: list[TickResult] = field(default_factory=list)

    async def execute_tick(self, scheduled_at: datetime, context: dict[str, Any]) -> None:
        """One slot: the due set as a step, then one step per due persona's session."""
        personas = load_personas(Path(str(context.get("configs") or self.configs)))
        limiter = anyio.CapacityLimiter(int(context.get("concurrency") or self.concurrency))
        async with self.runtime() as rt:

            async def decide() -> list[str]:
                checks = await due_now(rt.personas, personas, self.clock())
                return [c.persona_id for c in checks if c.due]

            due: list[str] = await DBOS.run_step_async({"name": "personas.due"}, decide)
            chosen = [p for p in personas if p.id in due]
            sessions: list[PersonaSession] = []

            async def session(persona: PersonaConfig) -> None:
                async def body() -> str:
                    done = await run_session(persona, rt, trigger="schedule")
                    sessions.append(done)
                    return done.record.id

                async with limiter:
                    await DBOS.run_step_async({"name": f"persona:{persona.id}"}, body)

            async with anyio.create_task_group() as tg:
                for persona in chosen:
                    tg.start_soon(session, persona)
        self.ticks.append(TickResult(scheduled_at, [], sessions))


def set_scheduler(scheduler: PersonaScheduler | None) -> None:
    """Attach the scheduler `mana.persona_tick` runs with to this process (None detaches it)."""
    HOST.provide(PersonaScheduler, scheduler)


def active_scheduler() -> PersonaScheduler:
    """The scheduler of this process; EngineStateError when none is attached."""
    return HOST.service(PersonaScheduler)


@DBOS.workflow(name=TICK_WORKFLOW)
async def persona_tick_workflow(scheduled_at: datetime, context: dict[str, Any]) -> None:
    """The workflow the persona schedule fires; its id is per slot."""
    await active_scheduler().execute_tick(scheduled_at, context)


def install(configs: Path, *, every_s: int = DEFAULT_EVERY_S, concurrency: int = 1) -> str:
    """Register the tick queue and create or update the persona schedule; its cron."""
    load_personas(configs)  # fail early on a bad file
    cron = every_to_cron(every_s)
    DBOS.register_queue(
        PERSONA_QUEUE,
        worker_concurrency=1,
        polling_interval_sec=QUEUE_POLL_S,
        on_conflict="always_update",
    )
    DBOS.apply_schedules(
        [
            {
                "schedule_name": TICK_SCHEDULE,
                "workflow_fn": persona_tick_workflow,
                "schedule": cron,
                "context": {"configs": str(configs), "concurrency": concurrency},
                "queue_name": PERSONA_QUEUE,
            }
        ]
    )
    return cron


class Launchable(Protocol):
    """The part of the missions' DBOS engine the persona scheduler uses."""

    def for_app(self, app_name: str, queues: tuple[str, ...]) -> Launchable:
        """Make the engine a worker of this DBOS application, dequeuing these queues."""
        ...

    def launch(self) -> None:
        """Start DBOS (connect, migrate, recover this worker's unfinished workflows)."""
        ...

    def shutdown(self) -> None:
        """Stop DBOS."""
        ...


def serve(
    engine: Launchable,
    scheduler: PersonaScheduler,
    *,
    every_s: int = DEFAULT_EVERY_S,
    stop: threading.Event,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the persona scheduler until `stop` is set: launch, install, wait, shut down."""
    set_scheduler(scheduler)
    engine.for_app(PERSONA_APP, (PERSONA_QUEUE,)).launch()
    try:
        cron = install(scheduler.configs, every_s=every_s, concurrency=scheduler.concurrency)
        if on_ready is not None:
            on_ready(cron)
        stop.wait()
    finally:
        engine.shutdown()
        set_scheduler(None)
