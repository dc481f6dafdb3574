"""`fork` for the command line: the recorded mission's reminders, and its live tools if asked."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from missions import AppSettings, load_mission, open_app
from planner import ConfigError, ForkResult, Model, PlannerError, RecordedRun, fork, from_spec
from planner import live_tools as refusing_writes
from reminders import build_channel


def prompt_text(value: str | None) -> str | None:
    """`--system-prompt`: the text itself, or `@FILE` for a file's text."""
    if value is None or not value.startswith("@"):
        return value
    path = Path(value[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the system prompt: {exc}") from exc


def live_model(spec: str | None, run: RecordedRun) -> Model:
    """The model for the live rounds: `--model`, else the recorded run's own model spec."""
    chosen = spec or run.started.model
    try:
        return from_spec(chosen)
    except PlannerError as exc:
        raise ConfigError(
            f"cannot build the model {chosen!r} for the fork ({exc}); pass --model"
        ) from exc


async def fork_file(
    path: Path,
    at: int,
    *,
    model_spec: str | None,
    system_prompt: str | None,
    live_tools: bool,
    out: Path | None,
    allow_writes: bool = False,
    settings: AppSettings,
) -> ForkResult:
    """Fork a mission transcript with its recorded reminders and, if asked, the app's tools
    (reads live; writes refuse, as in `replay --live-tools`, unless `allow_writes`)."""
    run = RecordedRun.load(path)
    recorded = run.started.settings
    channel = build_channel(recorded.get("reminders") or {}, f"{path}: reminders")
    model = live_model(model_spec, run)
    async with AsyncExitStack() as stack:
        tools = None
        if live_tools:
            app = await stack.enter_async_context(open_app(settings))
            tools = app.tools
            mission_path = recorded.get("mission_path")
            if mission_path:
                cfg = load_mission(mission_path)
                tools = tools.filter(lambda s: cfg.selects(s.name))
            tools = refusing_writes(tools, allow_writes)
        try:
            return await fork(
                path,
                at,
                model=model,
                system_prompt=prompt_text(system_prompt),
                tools=tools,
                reminder_channel=channel,
                out=out,
            )
        finally:
            close = getattr(model, "aclose", None)
            if close is not None:
                await close()
