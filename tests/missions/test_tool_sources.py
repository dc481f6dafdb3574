"""A mission whose tools come from the MCP gateway through `[[tool_sources]]`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import GatewaySettings, GatewayThread, LocalSigner
from missions.app import App
from missions.config import MissionConfig
from missions.errors import MissionConfigError
from missions.runner import run_mission
from planner import PolicyMode, StopReason
from planner.models import ScriptedModel


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayThread]:
    var = tmp_path_factory.mktemp("gw")
    with GatewayThread(GatewaySettings(var_dir=var, policy_mode=PolicyMode.ENFORCE)) as gw:
        yield gw


def mission(gw: GatewayThread, **extra: object) -> MissionConfig:
    fields: dict[str, object] = {
        "id": "remote-todos",
        "title": "remote",
        "objective": "Add a to-do through the gateway.",
        "model": "scripted:unused.json",
        "user_id": "ada",
        "tools": ["remote.todo.*"],
        "tool_sources": [{"url": gw.mcp_url, "token_env": "ADA_TOKEN", "prefix": "remote"}],
    }
    fields.update(extra)
    return MissionConfig.model_validate(fields)


async def test_mission_uses_gateway_tools_under_both_gates(
    app: App, gateway: GatewayThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = LocalSigner.load_or_create(gateway.settings.signing_key_path)
    token = signer.mint("ada", issuer=gateway.settings.issuer, audience=gateway.settings.audience)
    monkeypatch.setenv("ADA_TOKEN", token)
    model = ScriptedModel(
        [
            {
                "tool_calls": [
                    {"name": "remote.todo.create", "id": "c1", "arguments": {"title": "Via MCP"}},
                    {"name": "remote.todo.delete", "id": "c2", "arguments": {"todoId": "x"}},
                ]
            },
            {"tool_calls": [{"name": "remote.todo.list", "id": "c3", "arguments": {}}]},
            {"text": "done"},
        ]
    )
    run = await run_mission(mission(gateway), app, model=model)
    assert run.result.stop_reason is StopReason.ASSISTANT_STOP
    offered = {t.name for t in model.requests[0].tools}
    assert offered == {
        "remote.todo.create",
        "remote.todo.list",
        "remote.todo.complete",
        "remote.todo.delete",
    }
    created, deleted, listed = (e.result for e in run.result.executed_calls)
    assert created.success
    assert not deleted.success and "destructive-not-allowed" in deleted.message
    assert listed.success and "Via MCP" in str(listed.data)


async def test_missing_token_variable_is_a_clear_error(
    app: App, gateway: GatewayThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ADA_TOKEN", raising=False)
    with pytest.raises(MissionConfigError, match="environment variable ADA_TOKEN is not set"):
        await run_mission(mission(gateway), app, model=ScriptedModel([{"text": "x"}]))


def test_tool_source_urls_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="String should match pattern"):
        MissionConfig.model_validate(
            {
                "id": "x",
                "title": "t",
                "objective": "o",
                "model": "m",
                "user_id": "u",
                "tool_sources": [{"url": "ftp://nope"}],
            }
        )
