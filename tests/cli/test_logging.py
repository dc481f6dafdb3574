"""Logs hold no user content unless asked; every line is JSON off a TTY; the engine is quiet."""

from __future__ import annotations

import functools
import io
import json
import logging
import string
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from planner.logging import HANDLER_NAME, configure_logging, content_allowed
from planner.messages import Message, ModelRequest, ModelResponse, ToolCall
from planner.tools import ToolResult

ROOT = Path(__file__).resolve().parents[2]
secrets = st.text(alphabet=string.ascii_letters + string.digits, min_size=12, max_size=40)


@pytest.fixture(autouse=True)
def _restore_stdlib_logging() -> Iterator[None]:
    root, dbos = logging.getLogger(), logging.getLogger("dbos")
    saved = (list(root.handlers), root.level, list(dbos.handlers), dbos.propagate)
    yield
    root.handlers, dbos.handlers = saved[0], saved[2]
    root.setLevel(saved[1])
    dbos.propagate = saved[3]


def reprs(secret: str) -> list[str]:
    call = ToolCall(id="c1", name="todo.create", arguments={"title": secret})
    message = Message(role="tool", content=secret, tool_call_id="c1")
    request = ModelRequest(system_prompt=secret, messages=(message,))
    response = ModelResponse(text=secret, tool_calls=(call,))
    result = ToolResult(True, secret, {"title": secret})
    return [f(x) for x in (call, message, request, response, result) for f in (repr, str)]


@settings(max_examples=25, deadline=None)
@given(secret=secrets)
def test_reprs_show_sizes_not_content(secret: str) -> None:
    # a secret that is part of the reprs' own text (`ModelRequest`, say) would be found there
    # whatever the content: the same reprs of a placeholder of its size tell
    assume(not [text for text in reprs("-" * len(secret)) if secret in text])
    shown = reprs(secret)
    assert not [text for text in shown if secret in text]
    assert "todo.create" in shown[0] and "chars>" in shown[2]


def test_reprs_show_content_once_the_application_opts_in() -> None:
    assert not content_allowed()
    configure_logging("warning", stream=io.StringIO(), log_content=True)
    assert content_allowed()
    assert all("s3cr3t-t1tle" in text for text in reprs("s3cr3t-t1tle")[::2])
    configure_logging("warning", stream=io.StringIO())
    assert not content_allowed()


@pytest.fixture
def uvicorn_level_unset() -> Iterator[None]:
    """uvicorn's own level as a fresh process has it (a test's own uvicorn server may have
    set one)."""
    uvicorn_error = logging.getLogger("uvicorn.error")
    saved = uvicorn_error.level
    uvicorn_error.setLevel(logging.NOTSET)
    yield
    uvicorn_error.setLevel(saved)


@pytest.mark.usefixtures("uvicorn_level_unset")
def test_third_party_and_own_lines_are_json_and_content_keys_redacted() -> None:
    out = io.StringIO()
    configure_logging("info", json_lines=True, stream=out)
    logging.getLogger("dbos").warning("Asyncio task cancelled for %r", ModelRequest(
        system_prompt="m4rker-in-prompt", messages=()
    ))  # fmt: skip
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    logging.getLogger("tenacity").warning("retrying")
    structlog.get_logger("planner.loop").info("tool.done", arguments={"title": "m4rker-arg"})
    lines = out.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    assert [e.get("logger") for e in events[:3]] == ["dbos", "uvicorn.error", "tenacity"]
    assert events[3]["event"] == "tool.done" and "redacted" in events[3]["arguments"]
    assert "m4rker" not in out.getvalue()
    assert [h.name for h in logging.getLogger().handlers].count(HANDLER_NAME) == 1


def test_dbos_keeps_our_handler_instead_of_its_console_one() -> None:
    configure_logging("warning", json_lines=True, stream=io.StringIO())
    from dbos._logger import init_logger

    init_logger()
    assert [h.name for h in logging.getLogger("dbos").handlers] == [HANDLER_NAME]


LIBRARY_USE = """
import anyio
from pydantic import BaseModel
from planner import PlannerLoopInput, PolicyGate, ToolContext, ToolRegistry, ToolSpec
from planner import run_planner_loop
from planner.models import ScriptedModel

class In(BaseModel):
    title: str

async def add(ctx, inp):
    return In(title=inp.title)

async def main():
    tools = ToolRegistry([ToolSpec("todo.add", "Add.", In, In, add, policy_hint="write")])
    model = ScriptedModel([
        {"tool_calls": [{"name": "todo.add", "arguments": {"title": "m4rker"}}]},
        {"tool_calls": [{"name": "todo.nope", "arguments": {}}]},
        {"text": "done"},
    ])
    await run_planner_loop(PlannerLoopInput(
        model=model, system_prompt="s", user_prompt="u", tools=tools,
        context=ToolContext(user_id="u1", space_id="s1", run_id="r1"), policy=PolicyGate(),
    ))

anyio.run(main)
"""


def test_the_engine_as_a_library_prints_nothing_below_warning() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LIBRARY_USE], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


class TodoIn(BaseModel):
    title: str


@settings(max_examples=25, deadline=None)
@given(secret=secrets)
def test_step_and_statement_arguments_are_cut_from_third_party_lines(secret: str) -> None:
    out = io.StringIO()
    configure_logging("debug", json_lines=True, stream=out)
    step = functools.partial(print, TodoIn(title=secret), {"title": secret})
    logging.getLogger("dbos").warning(f"Asyncio task cancelled for workflow or step {step}")
    logging.getLogger("aiosqlite").debug("executing %s", functools.partial(print, "SQL", (secret,)))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(events) == 2 and secret not in out.getvalue()
    assert all("<built-in function print>, <arguments redacted>" in e["event"] for e in events)


def test_log_content_keeps_third_party_arguments() -> None:
    out = io.StringIO()
    configure_logging("info", json_lines=True, stream=out, log_content=True)
    logging.getLogger("dbos").warning("step %s", functools.partial(print, "s3cr3t-arg"))
    assert "s3cr3t-arg" in json.loads(out.getvalue())["event"]


async def test_a_failing_tool_logs_its_error_type_but_not_its_message() -> None:
    from pydantic import BaseModel

    from planner import ToolContext, ToolSpec
    from planner.dispatch import execute

    class In(BaseModel):
        id: str

    async def lookup(ctx: ToolContext, inp: In) -> In:
        raise LookupError(f"no note {inp.id}")

    spec = ToolSpec("notes.lookup", "Find a note.", In, In, lookup, policy_hint="read")
    marker = "secret-id-4f1c9"
    out = io.StringIO()
    configure_logging("info", json_lines=True, stream=out)
    result = await execute(spec, ToolContext("u", "s"), In(id=marker))
    assert not result.success and marker in result.message  # the model still reads it
    assert "tool.error" in out.getvalue() and "LookupError" in out.getvalue()
    assert marker not in out.getvalue()
    out.truncate(0)
    configure_logging("info", json_lines=True, stream=out, log_content=True)
    await execute(spec, ToolContext("u", "s"), In(id=marker))
    assert marker in out.getvalue()
