"""Toolkits as named, testable units: classes of @tool_method handlers, sizes a reader holds."""

from __future__ import annotations

import ast
import inspect
import traceback
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import BaseModel
from tk_helpers import Caller, ctx

from planner.tools import ToolContext, ToolRegistry, read_tools_are_parallel_safe
from toolkits import ScopedSession, Store, Toolkit, once, tool_method
from toolkits.crypto import FieldCipher
from toolkits.errors import NotFoundError, ToolDefinitionError
from toolkits.keyvault import LocalKeyVault
from toolkits.models import ToolModel
from toolkits.todo import TodoTools

ROOT = Path(__file__).resolve().parents[2]


def test_every_handler_is_a_documented_method_of_a_toolkit(registry: ToolRegistry) -> None:
    for spec in registry:
        handler = inspect.unwrap(spec.handler)
        assert handler.__qualname__.count(".") == 1, handler.__qualname__
        owner = handler.__qualname__.split(".")[0]
        assert owner.endswith("Tools") and "<locals>" not in handler.__qualname__
        assert inspect.getdoc(handler), f"{spec.name}: {handler.__qualname__} has no docstring"


async def test_a_traceback_names_the_method(call: Caller) -> None:
    with pytest.raises(NotFoundError) as caught:
        await call("todo.complete", ctx("alice"), {"todoId": "missing"})
    frames = [f.f_code.co_qualname for f, _ in traceback.walk_tb(caught.value.__traceback__)]
    assert "TodoTools.complete" in frames


def test_reads_say_read_and_run_in_parallel(registry: ToolRegistry) -> None:
    reads = {s.name for s in registry if read_tools_are_parallel_safe(s)}
    assert reads == {s.name for s in registry if s.name.endswith((".list", ".search"))} | {
        "me.listReferenceImages"
    }


def test_a_tool_method_must_state_its_policy_hint() -> None:
    with pytest.raises(TypeError, match="policy_hint"):
        tool_method("x.y", "A tool that forgot its hint.")  # type: ignore[call-arg]


def _calls_without(path: Path, func: str, keyword: str) -> list[int]:
    """Lines of calls to `func` in `path` that do not pass `keyword`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", None)) == func
        and keyword not in {k.arg for k in node.keywords}
    ]


def test_shipped_tools_state_their_policy_hint() -> None:
    """Whatever ToolSpec's default is, no shipped tool relies on it."""
    assert _calls_without(ROOT / "missions" / "demo_tools.py", "ToolSpec", "policy_hint") == []
    for path in (ROOT / "toolkits").glob("*.py"):
        assert _calls_without(path, "ToolSpec", "policy_hint") == [], path.name
        assert _calls_without(path, "tool_method", "policy_hint") == [], path.name


def test_no_module_over_400_lines_no_function_over_60_no_factory_over_40() -> None:
    for path in sorted((ROOT / "toolkits").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, path.name
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= 60, f"{path.name}: {node.name} has {length} lines"
            nested = any(
                isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n is not node
                for n in ast.walk(node)
            )
            assert not nested or length <= 40, f"{path.name}: factory {node.name} ({length})"


class NoModels(Toolkit):
    """A toolkit whose handler's input is not a pydantic model."""

    @tool_method("bad.tool", "Takes a dict.", policy_hint="read")
    async def bad(self, ctx: ToolContext, inp: dict[str, str]) -> BaseModel:
        """Wrongly annotated."""
        return BaseModel()


def test_a_handler_without_models_is_refused_at_registry_build(store: Store) -> None:
    with pytest.raises(ToolDefinitionError, match=r"'bad\.tool'.*NoModels\.bad.*input"):
        NoModels(store, FieldCipher(LocalKeyVault(Path("unused.json")))).specs()


# --- a toolkit of one's own, as docs/tools.md shows it -----------------------------------


class StreakIn(ToolModel):
    """A habit to start a streak of."""

    name: str


class StreakOut(ToolModel):
    """The habit created."""

    habit_id: str


class StreakTools(Toolkit):
    """A third-party toolkit: one write tool, effectively-once on the call id."""

    @tool_method("streaks.start", "Start a daily streak habit.", policy_hint="write")
    @once
    async def start(self, s: ScopedSession, inp: StreakIn) -> StreakOut:
        """Create the habit in the caller's active space."""
        row = await s.create("habits", {"name": inp.name, "cadence": "daily", "target": 1})
        return StreakOut(habit_id=row["id"])


async def test_a_toolkit_of_ones_own_is_once_per_call_id(
    store: Store, vault: LocalKeyVault, call: Caller
) -> None:
    kit = StreakTools(store, FieldCipher(vault))
    [spec] = kit.specs()
    assert (spec.name, spec.policy_hint, spec.input_model, spec.output_model) == (
        "streaks.start",
        "write",
        StreakIn,
        StreakOut,
    )
    c = replace(ctx("alice"), run_id="r", call_id="c1")
    first = await spec.handler(c, StreakIn(name="Floss"))
    assert await spec.handler(c, StreakIn(name="Floss")) == first
    listed = await call("habits.list", ctx("alice"))
    assert [h["id"] for h in listed["habits"]] == [first.habit_id]


def test_toolkit_classes_keep_one_job_each() -> None:
    """Each tool module holds one Toolkit class and its models: named, importable, testable."""
    kit = TodoTools.__dict__
    assert {n for n, v in kit.items() if hasattr(v, "__mana_tool__")} == {
        "create",
        "complete",
        "list_todos",
        "delete",
    }
