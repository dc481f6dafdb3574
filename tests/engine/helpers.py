"""Small tools and builders shared by the engine tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel

from planner import PlannerLoopInput, ToolContext, ToolRegistry, ToolSpec, with_subagents
from planner.models import Model, ScriptedModel
from planner.tools import AnyToolSpec, PolicyHint, Scope


class EchoIn(BaseModel):
    text: str


class EchoOut(BaseModel):
    echoed: str


class SleepIn(BaseModel):
    ms: float = 10.0
    label: str = ""


class SleepOut(BaseModel):
    label: str


class Empty(BaseModel):
    pass


@dataclass
class Probe:
    """Tracks how many handlers run at once, and the order they finish in."""

    running: int = 0
    peak: int = 0
    finished: list[str] = field(default_factory=list)
    calls: int = 0


def echo_tool(name: str = "demo.echo", hint: PolicyHint = "read") -> ToolSpec[EchoIn, EchoOut]:
    async def handler(ctx: ToolContext, inp: EchoIn) -> EchoOut:
        return EchoOut(echoed=inp.text)

    return ToolSpec(name, "Echo the text back.", EchoIn, EchoOut, handler, policy_hint=hint)


def sleep_tool(
    probe: Probe, name: str = "demo.sleep", hint: PolicyHint = "read", timeout_s: float = 5.0
) -> ToolSpec[SleepIn, SleepOut]:
    async def handler(ctx: ToolContext, inp: SleepIn) -> SleepOut:
        probe.calls += 1
        probe.running += 1
        probe.peak = max(probe.peak, probe.running)
        try:
            await anyio.sleep(inp.ms / 1000)
        finally:
            probe.running -= 1
        probe.finished.append(inp.label)
        return SleepOut(label=inp.label)

    return ToolSpec(
        name, "Sleep a while.", SleepIn, SleepOut, handler, policy_hint=hint, timeout_s=timeout_s
    )


def failing_tool(name: str = "demo.fail") -> ToolSpec[Empty, Empty]:
    async def handler(ctx: ToolContext, inp: Empty) -> Empty:
        raise RuntimeError("disk on fire")

    return ToolSpec(name, "Always fails.", Empty, Empty, handler, policy_hint="write")


def plain_tool(
    name: str, hint: PolicyHint = "write", scope: Scope = "user-space", counter: Probe | None = None
) -> ToolSpec[Empty, Empty]:
    async def handler(ctx: ToolContext, inp: Empty) -> Empty:
        if counter is not None:
            counter.calls += 1
        return Empty()

    return ToolSpec(name, f"The {name} tool.", Empty, Empty, handler, scope=scope, policy_hint=hint)


def call(name: str, cid: str | None = None, **arguments: Any) -> dict[str, Any]:
    """A scripted tool call."""
    out: dict[str, Any] = {"name": name, "arguments": arguments}
    if cid:
        out["id"] = cid
    return out


def make_input(
    steps: list[Any], tools: list[Any], **overrides: Any
) -> tuple[PlannerLoopInput, ScriptedModel]:
    """A loop input over a scripted model; returns the model too for request checks."""
    scripted = ScriptedModel(steps)
    model = overrides.pop("model", scripted)
    return loop_input(model, tools, **overrides), scripted


def loop_input(model: Model, tools: Sequence[AnyToolSpec], **overrides: Any) -> PlannerLoopInput:
    """A loop input over any model, with the test defaults; `overrides` replace fields, and
    `subagents` (with `subagent_model`) are offered through `with_subagents`."""
    kinds = overrides.pop("subagents", ())
    model_for = overrides.pop("subagent_model", None)
    fields: dict[str, Any] = {
        "model": model,
        "system_prompt": "You are a test agent.",
        "user_prompt": "Do the thing.",
        "tools": ToolRegistry(tools),
        "context": ToolContext(user_id="u1", space_id="s1", run_id="r1"),
        "max_rounds": 10,
    }
    fields.update(overrides)
    return with_subagents(PlannerLoopInput(**fields), kinds, model_for)
