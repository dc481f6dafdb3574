"""Every app tool through the planner loop, on both databases, and the data after a restart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tk_fake_images import FakeImagesAPI, FakeServer

from planner import (
    PlannerLoopInput,
    PolicyGate,
    PolicyMode,
    ToolContext,
    UserPolicySettings,
    run_planner_loop,
)
from planner.messages import ModelRequest
from planner.models import ScriptedModel
from planner.tools import read_tools_are_parallel_safe
from toolkits import default_registry
from toolkits.images import make_image_client
from toolkits.keyvault import LocalKeyVault
from toolkits.seed import seed_demo
from toolkits.store import Store, open_store

USER = "ada"
SPACE = f"personal:{USER}"


@pytest.fixture(scope="module")
def images() -> Iterator[FakeServer]:
    server = FakeServer(FakeImagesAPI())
    server.start()
    yield server
    server.stop()


def results(request: ModelRequest) -> dict[str, Any]:
    """The data of every tool result so far, by call id."""
    out = {}
    for m in request.messages:
        if m.role == "tool" and m.tool_call_id:
            out[m.tool_call_id] = json.loads(m.content)
    return out


def call(cid: str, tool: str, /, **arguments: Any) -> dict[str, Any]:
    return {"id": cid, "name": tool, "arguments": arguments}


def writes(request: ModelRequest) -> dict[str, Any]:
    seen = results(request)
    todo_id = seen["todos"]["data"]["todos"][0]["id"]
    habit_id = seen["habits"]["data"]["habits"][0]["id"]
    image_id = seen["images"]["data"]["images"][0]["mediaId"]
    return {
        "tool_calls": [
            call("h1", "habits.create", name="Stretch", cadence="daily"),
            call("h2", "habits.update", habitId=habit_id, target=2),
            call("t1", "todo.create", title="Water the plants", priority="high"),
            call("t2", "todo.complete", todoId=todo_id),
            call("n1", "notes.create", title="Garden", content="Tomatoes by the south wall"),
            call("j1", "journal.add", content="Planted tomatoes.", mood="content"),
            call("m1", "me.setPrimary", mediaId=image_id, slot="face"),
            call(
                "m2",
                "me.generateWithReference",
                prompt="me, in a garden",
                referenceMediaIds=[image_id],
                quality="low",
                size="1024x1024",
                n=1,
            ),
        ]
    }


def cleanup(request: ModelRequest) -> dict[str, Any]:
    seen = results(request)
    return {
        "tool_calls": [
            call("h3", "habits.archive", habitId=seen["h1"]["data"]["id"]),
            call("t3", "todo.delete", todoId=seen["t1"]["data"]["id"]),
            call("a1", "admin.users.list"),
        ]
    }


async def test_every_tool_through_the_loop_and_after_restart(
    store_url: str, store: Store, vault: LocalKeyVault, media_dir: Path, images: FakeServer
) -> None:
    await seed_demo(store, vault, USER, media_dir=media_dir)
    client = make_image_client(api_key="sk-test", base_url=images.base_url)
    registry = default_registry(store, vault, media_dir=media_dir, image_client=client)
    model = ScriptedModel(
        [
            {
                "tool_calls": [
                    call("spaces", "spaces.list"),
                    call("habits", "habits.list"),
                    call("todos", "todo.list"),
                    call("notes", "notes.search", query="Lisbon"),
                    call("images", "me.listReferenceImages", kind="face"),
                ]
            },
            writes,
            cleanup,
            {"text": "all done"},
        ]
    )
    opt_in = UserPolicySettings(allow_destructive=frozenset({"todo.delete"}))
    result = await run_planner_loop(
        PlannerLoopInput(
            model=model,
            system_prompt="test",
            user_prompt="use every tool",
            tools=registry,
            context=ToolContext(USER, SPACE, "run-every-tool"),
            policy=PolicyGate(mode=PolicyMode.ENFORCE, settings_for=lambda _u: opt_in),
            is_parallel_safe=read_tools_are_parallel_safe,
            max_rounds=6,
        )
    )
    await client.close()
    by_id = {e.call.id: e.result for e in result.executed_calls}
    used = {e.call.name for e in result.executed_calls}
    assert used == set(registry.names)
    failed = {cid: r.message for cid, r in by_id.items() if not r.success}
    assert set(failed) == {"a1"}, failed
    assert failed["a1"].startswith("Tool admin.users.list not allowed: admin-scope-not-invokable")
    assert by_id["notes"].data["matches"][0]["title"] == "Trip ideas"
    assert by_id["m2"].data["images"] and Path(by_id["m2"].data["images"][0]["path"]).exists()
    assert result.summary == "all done"
    await store.close()

    reopened = await open_store(store_url)
    try:
        again = default_registry(reopened, vault, media_dir=media_dir)
        ctx = ToolContext(USER, SPACE)
        todo_list = again.get("todo.list")
        notes_search = again.get("notes.search")
        assert todo_list is not None and notes_search is not None
        todos = await todo_list.handler(ctx, todo_list.input_model(status="all"))
        titles = {t.title: t.completed for t in todos.todos}
        assert "Water the plants" not in titles  # deleted
        assert any(done for done in titles.values())  # the completed one stays done
        found = await notes_search.handler(ctx, notes_search.input_model(query="Tomatoes"))
        assert [m.title for m in found.matches] == ["Garden"]
    finally:
        await reopened.close()
