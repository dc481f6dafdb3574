"""What the persona commands share: errors, config loading, stores, session tables."""

from __future__ import annotations

import signal
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TypeVar

import anyio
import typer
from rich.console import Console

from missions import EVERY_RE, EVERY_UNITS, AppSettings, out_console
from personas.config import PersonaConfig, load_personas, select
from personas.errors import PersonaConfigError
from personas.scripted import scripted_persona_model
from personas.session import PersonaRuntime, PersonaSession
from personas.store import SqlPersonaStore
from planner import Model, PolicyMode
from toolkits import open_store, print_table

T = TypeVar("T")
console = out_console()
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """Print one error line and exit with `code`."""
    err.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def run_work(work: Callable[[], Awaitable[T]]) -> T:
    """Run async work to its end (the root reports the packages' errors)."""
    return anyio.run(work)


def load_configs(configs: Path) -> list[PersonaConfig]:
    """The persona files under `configs`; a bad one prints its problems and exits 1."""
    try:
        return load_personas(configs)
    except PersonaConfigError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None


def parse_policy_mode(value: str | None) -> PolicyMode | None:
    """`--policy-mode` parsed, or None when not given."""
    return None if value is None else PolicyMode.parse(value, "--policy-mode")


async def with_persona_store(
    settings: AppSettings, work: Callable[[SqlPersonaStore], Awaitable[T]]
) -> T:
    """Open the persona store over the app database, run `work`, close it."""
    store = await open_store(settings.store_url)
    try:
        return await work(await SqlPersonaStore(store.engine).create())
    finally:
        await store.close()


def when(ts: float | None) -> str:
    """A UTC timestamp as `YYYY-MM-DD HH:MM`, or `-`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


def print_sessions(sessions: Sequence[PersonaSession]) -> None:
    """One line per session: persona, stop, calls by outcome, feedback."""
    columns = ("persona", "session", "stop", "calls", "errors", "denied", "flagged", "feedback")
    rows = []
    for s in sessions:
        r = s.record
        fb = s.feedback
        if fb is None:
            feedback = "-"
        elif fb.valid:
            feedback = " ".join(f"{m}={v}" for m, v in fb.ratings.items()) or "valid"
        else:
            feedback = f"invalid ({fb.attempts} tries)"
        rows.append(
            (
                r.persona_id,
                r.id,
                r.stop_reason or "-",
                str(r.tool_calls),
                str(r.errors),
                str(r.denials),
                str(r.flagged),
                feedback if not r.error or fb else r.error[:60],
            )
        )
    print_table("Persona sessions", columns, rows)


def select_personas(personas: list[PersonaConfig], ids: list[str]) -> list[PersonaConfig]:
    """The named personas; an unknown id prints the problem and exits 1."""
    try:
        return select(personas, ids)
    except PersonaConfigError as exc:
        fail(str(exc), 1)
        raise


def model_override(spec: str | None) -> Callable[[PersonaConfig], Model] | None:
    """A model for every persona from `--model` (scripted specs drive each persona)."""
    if spec is None:
        return None
    from personas.scripted import is_scripted_spec
    from planner import from_spec

    def model_for(persona: PersonaConfig) -> Model:
        if is_scripted_spec(spec):
            return scripted_persona_model(persona, spec=spec)
        return from_spec(spec)

    return model_for


def runtime_url(rt: PersonaRuntime) -> str:
    """The MCP URL of the runtime's gateway."""
    return str(getattr(rt.tools, "mcp_url", "?"))


def every_seconds(every: str) -> int:
    """`--every` (a number and a unit s, m, h or d) in seconds; anything else exits 2."""
    match = EVERY_RE.match(every)
    if match is None:
        fail(f"--every {every!r} must be a number and a unit s, m, h or d")
        raise AssertionError("unreachable: fail exits")
    return int(match.group(1)) * EVERY_UNITS[match.group(2)]


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM: a scheduler stops at its next look."""
    stop = threading.Event()

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stop
