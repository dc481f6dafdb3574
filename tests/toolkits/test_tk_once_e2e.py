"""End to end: SIGKILL inside a write tool after its commit, resume with the run id, count.

The durable run saves each tool call as a DBOS step only after the handler returns, so a kill
between the handler's commit and the step's save makes the resumed run execute the call
again. The call ledger must turn that second execution into the recorded result: one to-do
row per call, one charge and one set of images per generation. It runs once, on PostgreSQL
when MANA_TEST_PG_URL is set (as in CI) and on SQLite otherwise: three processes per run are
the slowest test of the toolkits, and the unit tests cover both stores call by call.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tk_fake_images import FakeImagesAPI, FakeServer
from tk_helpers import add_image, ctx

from planner.testing import FakeCall, FakeLLMServer, Reply
from toolkits.keyvault import LocalKeyVault
from toolkits.store import open_store

ROOT = Path(__file__).resolve().parents[2]
CHILD = "tests.toolkits.tk_kill_child"


@pytest.fixture
def images_api() -> Iterator[tuple[FakeServer, FakeImagesAPI]]:
    """A fake images endpoint the child processes call."""
    api = FakeImagesAPI()
    server = FakeServer(api)
    server.start()
    yield server, api
    server.stop()


def child(
    tmp_path: Path, store_url: str, llm: FakeLLMServer, image_url: str, kill_after: str | None
) -> subprocess.CompletedProcess[str]:
    """Run (or resume) the run `once-1` in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k != "MANA_DATABASE_URL"}
    env |= {
        "PYTHONPATH": str(ROOT),
        "POLICY_MODE": "log-only",
        "ANTHROPIC_BASE_URL": llm.base_url,
        "ANTHROPIC_API_KEY": "test-key",
    }
    args = [sys.executable, "-m", CHILD, "--run-id", "once-1", "--store", store_url]
    args += ["--sys-db", f"sqlite:///{tmp_path / 'sys.sqlite'}", "--image-url", image_url]
    args += ["--keystore", str(tmp_path / "keys.json"), "--media-dir", str(tmp_path / "media")]
    args += ["--runs-dir", str(tmp_path / "runs")]
    if kill_after:
        args += ["--kill-after", kill_after]
    return subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def counts(store_url: str) -> dict[str, Any]:
    """To-do titles, generated images (rows and files) and alice's credits."""
    store = await open_store(store_url)
    try:
        async with store.scoped(ctx("alice")) as s:
            todos = await s.select("todo")
            images = [r for r in await s.select("me_images") if r["kind"] == "generated"]
        return {"todos": len(todos), "images": len(images), "credits": await store.credits("alice")}
    finally:
        await store.close()


async def test_a_write_killed_after_its_commit_has_one_effect_after_resume(
    tmp_path: Path,
    one_store_url: str,
    llm_server: FakeLLMServer,
    images_api: tuple[FakeServer, FakeImagesAPI],
) -> None:
    image_server, api = images_api
    store_url = one_store_url
    store = await open_store(store_url)
    face = await add_image(
        store, LocalKeyVault(tmp_path / "keys.json"), tmp_path / "media", "alice"
    )
    await store.grant_credits("alice", 50)
    await store.close()
    generate = {"prompt": "me, hiking", "referenceMediaIds": [face], "quality": "medium", "n": 2}
    llm_server.push(
        Reply(tool_calls=[FakeCall("todo__create", {"title": "Book the dentist"})]),
        Reply(tool_calls=[FakeCall("me__generateWithReference", generate)]),
        Reply(tool_calls=[FakeCall("todo__create", {"title": "Renew passport"})]),
        Reply(text="all done"),
    )

    def run(kill_after: str | None) -> subprocess.CompletedProcess[str]:
        return child(tmp_path, store_url, llm_server, image_server.base_url, kill_after)

    first = run("todo.create")
    assert first.returncode == -signal.SIGKILL, first.stderr[-3000:]
    assert await counts(store_url) == {"todos": 1, "images": 0, "credits": 50}

    second = run("me.generateWithReference")  # re-runs todo.create's step, then dies again
    assert second.returncode == -signal.SIGKILL, second.stderr[-3000:]
    assert await counts(store_url) == {"todos": 1, "images": 2, "credits": 30}
    assert len(api.requests) == 1

    third = run(None)  # re-runs the generation's step, then finishes
    assert third.returncode == 0, third.stderr[-3000:]
    out = json.loads(third.stdout.strip().splitlines()[-1])
    assert out["stop_reason"] == "assistant_stop" and out["summary"] == "all done"
    assert [(r["name"], r["ok"]) for r in out["results"]] == [
        ("todo.create", True),
        ("me.generateWithReference", True),
        ("todo.create", True),
    ]
    # three write calls, each executed twice or more, each with exactly one effect
    assert await counts(store_url) == {"todos": 2, "images": 2, "credits": 30}
    assert len(api.requests) == 1
    assert len(llm_server.requests) == 4
    assert len(list((tmp_path / "media").rglob("*.png"))) == 3  # the reference and two outputs
