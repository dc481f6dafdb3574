"""Registry: names, wire mapping, and one schema exported to every protocol."""

from __future__ import annotations

import pytest

from planner import ToolRegistry
from planner.errors import ToolRegistryError
from planner.tools import from_wire_name, to_wire_name
from tests.engine.helpers import echo_tool, plain_tool


def test_wire_names_round_trip() -> None:
    for name in ["todo.create", "admin.users.list", "me.listReferenceImages", "plain"]:
        assert from_wire_name(to_wire_name(name)) == name
    assert to_wire_name("todo.create") == "todo__create"


def test_registry_rejects_bad_names() -> None:
    with pytest.raises(ToolRegistryError, match="registered twice"):
        ToolRegistry([echo_tool(), echo_tool()])
    with pytest.raises(ToolRegistryError, match="must not contain '__'"):
        ToolRegistry([plain_tool("todo__create")])
    with pytest.raises(ToolRegistryError, match="longer than the 64"):
        ToolRegistry([plain_tool("m." + "x" * 70)])
    with pytest.raises(ToolRegistryError, match="dot-separated"):
        ToolRegistry([plain_tool("todo create")])


def test_one_schema_three_exports() -> None:
    reg = ToolRegistry([echo_tool(), plain_tool("todo.delete", hint="destructive")])
    anth = reg.to_anthropic()[0]
    oai = reg.to_openai()[0]
    resp = reg.to_openai_responses()[0]
    mcp = reg.to_mcp()
    assert anth["name"] == oai["function"]["name"] == resp["name"] == "demo__echo"
    assert anth["input_schema"] == oai["function"]["parameters"] == resp["parameters"]
    assert anth["input_schema"]["required"] == ["text"]
    assert mcp[0]["name"] == "demo.echo"
    assert mcp[0]["annotations"]["readOnlyHint"] is True
    assert mcp[1]["annotations"] == {
        "readOnlyHint": False,
        "destructiveHint": True,
        "idempotentHint": False,
    }
    assert reg.get("demo.echo") is not None and "todo.delete" in reg and len(reg) == 2
