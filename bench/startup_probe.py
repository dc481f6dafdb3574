"""`python -m bench.startup_probe ARGS`: `mana-planner ARGS` with wall-clock marks per phase.

The marks (seconds since the epoch, so the parent can place them beside its spawn and exit)
go as JSON to the file named by $MANA_STARTUP_MARKS. The modules `run` imports are imported
first, as one phase; then DBOS launch, the app store's open and close, and DBOS destroy are
wrapped where the engine calls them. bench/cli_bench.py turns the marks into a split.
"""

from __future__ import annotations

import gc
import time

gc.disable()  # as `mana-planner`'s main does while a command's package is imported
MARKS: list[tuple[str, float]] = [("python_started", time.time())]

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from collections.abc import AsyncIterator, Callable  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from typing import Any  # noqa: E402

RUN_IMPORTS = (
    "mana_planner.cli",
    "missions.cli",
    "missions.shipped",
    "missions.app",
    "missions.checks",
    "missions.cli_durable",
    "missions.live",
    "missions.runner",
    "missions.summary",
    "missions.runview",
    "planner.stream",
)


def mark(name: str) -> None:
    """Note that `name` happened now."""
    MARKS.append((name, time.time()))


def wrapped(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with a mark before and after each call."""

    def call(*args: Any, **kwargs: Any) -> Any:
        mark(f"{name}_start")
        try:
            return fn(*args, **kwargs)
        finally:
            mark(f"{name}_end")

    return call


def probe_store(open_app: Callable[..., Any]) -> Callable[..., Any]:
    """`open_app` with marks around the store's opening and closing."""

    @asynccontextmanager
    async def opened(settings: Any) -> AsyncIterator[Any]:
        mark("store_open_start")
        cm = open_app(settings)
        app = await cm.__aenter__()
        mark("store_open_end")
        try:
            yield app
        finally:
            mark("store_close_start")
            await cm.__aexit__(None, None, None)
            mark("store_close_end")

    return opened


def main() -> None:
    """Import, patch, run the root command, write the marks."""
    for module in RUN_IMPORTS:
        importlib.import_module(module)
    mark("imports_done")
    from mana_planner.cli import main as cli_main
    from missions import app_env
    from missions.durable import DBOSEngine

    setattr(DBOSEngine, "launch", wrapped("launch", DBOSEngine.launch))  # noqa: B010
    setattr(DBOSEngine, "shutdown", wrapped("destroy", DBOSEngine.shutdown))  # noqa: B010
    setattr(app_env, "open_app", probe_store(getattr(app_env, "open_app")))  # noqa: B009, B010
    try:
        cli_main()
    finally:
        mark("main_done")
        with open(os.environ["MANA_STARTUP_MARKS"], "w") as out:
            json.dump(MARKS, out)


if __name__ == "__main__":
    main()
