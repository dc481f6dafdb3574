"""A durable mission over the app's toolkits, killed inside a write tool after its commit.

`python -m tests.toolkits.tk_kill_child --run-id R ...` runs (or resumes) one mission as the
DBOS workflow R over `default_registry` (store, keystore, media directory, image client at
`--image-url`), its model the fake LLM server (ANTHROPIC_BASE_URL). With `--kill-after TOOL`
the process SIGKILLs itself the first time TOOL's handler returns: the handler's transaction
has committed, and DBOS has not saved the step. The resumed run re-executes that step.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

from missions.config import MissionConfig
from missions.durable import DBOSEngine, run_once
from missions.engine_types import EnvFactory, MissionEnv, StaticEnv
from planner import ToolContext, ToolRegistry
from planner.tools import AnyToolSpec
from toolkits import default_registry, open_store
from toolkits.images import make_image_client
from toolkits.keyvault import LocalKeyVault

MISSION = {
    "id": "once-kill",
    "title": "Effectively-once kill test",
    "objective": "Add a to-do, generate an image, add another to-do.",
    "model": "anthropic:fake-model",
    "tools": ["todo.*", "me.*"],
    "user_id": "alice",
    "space_id": "personal",
    "limits": {"max_rounds": 6},
}


def killing(spec: AnyToolSpec) -> AnyToolSpec:
    """The same tool, but the process dies the moment its handler has returned."""
    inner = spec.handler

    async def handler(ctx: ToolContext, inp: Any) -> Any:
        out = await inner(ctx, inp)
        os.kill(os.getpid(), signal.SIGKILL)
        return out  # pragma: no cover - never reached

    return dataclasses.replace(spec, handler=handler)


def env_factory(args: argparse.Namespace) -> EnvFactory:
    """The run's tools, opened in the event loop that executes the run (DBOS recovers a
    killed run on its own loop, and a PostgreSQL pool belongs to the loop that made it)."""

    @asynccontextmanager
    async def open_env() -> AsyncIterator[MissionEnv]:
        store = await open_store(args.store)
        image_client = make_image_client(api_key="sk-test", base_url=args.image_url)
        try:
            tools = default_registry(
                store,
                LocalKeyVault(args.keystore),
                media_dir=args.media_dir,
                image_client=image_client,
            )
            if args.kill_after:
                tools = ToolRegistry(killing(s) if s.name == args.kill_after else s for s in tools)
            yield StaticEnv(tools)
        finally:
            await image_client.close()
            await store.close()

    return open_env


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run or resume the mission; its outcome as JSON-able data."""
    engine = DBOSEngine(env_factory(args), db_url=args.sys_db, runs_dir=args.runs_dir)
    cfg = MissionConfig.model_validate(MISSION)
    done = await run_once(engine, cfg, run_id=args.run_id)
    return {
        "stop_reason": done.result.stop_reason.value,
        "summary": done.result.summary,
        "results": [
            {"name": e.call.name, "ok": e.result.success, "message": e.result.message}
            for e in done.result.executed_calls
        ],
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--sys-db", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--keystore", type=Path, required=True)
    parser.add_argument("--media-dir", type=Path, required=True)
    parser.add_argument("--runs-dir", type=Path, required=True)
    parser.add_argument("--image-url", required=True)
    parser.add_argument("--kill-after", help="SIGKILL after this tool's handler returns")
    args = parser.parse_args(argv)
    print(json.dumps(anyio.run(run, args)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
