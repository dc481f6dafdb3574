"""Record real transcripts for the console tests: the loop with a scripted model and tools that
really sleep, so every bar's start and end are measured, not written by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel

from planner import (
    PlannerLoopInput,
    PolicyGate,
    PolicyMode,
    SummarizingCompactor,
    ToolContext,
    ToolRegistry,
    ToolSpec,
)
from planner.loop import run_planner_loop
from planner.messages import ModelRequest, ModelResponse
from planner.models import ScriptedModel
from planner.models.base import RETRY_SINK, RetryInfo
from planner.subagents import SubAgentSpec, read_only, with_subagents
from planner.tools import AnyToolSpec, read_tools_are_parallel_safe
from planner.transcript import FileTranscript

READ_MS = (40.0, 90.0, 140.0)


class ReadIn(BaseModel):
    note: str
    ms: float = 20.0


class ReadOut(BaseModel):
    note: str
    text: str


class WipeIn(BaseModel):
    space: str


class WipeOut(BaseModel):
    wiped: int


def demo_tools() -> list[AnyToolSpec]:
    """A read that sleeps `ms`, and a destructive tool the gate denies."""

    async def read(ctx: ToolContext, inp: ReadIn) -> ReadOut:
        await anyio.sleep(inp.ms / 1000)
        return ReadOut(note=inp.note, text=f"contents of {inp.note}")

    async def wipe(ctx: ToolContext, inp: WipeIn) -> WipeOut:
        return WipeOut(wiped=99)

    return [
        ToolSpec("notes.read", "Read one note.", ReadIn, ReadOut, read, policy_hint="read"),
        ToolSpec("space.wipe", "Delete a space.", WipeIn, WipeOut, wipe, policy_hint="destructive"),
    ]


def _call(cid: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"id": cid, "name": name, "arguments": arguments}


def demo_script(answer: str = "Three notes read; the wipe was refused.") -> list[dict[str, Any]]:
    """Round 1: three parallel reads; 2: a denied wipe; 3: a sub-agent; 4: the answer."""
    reads = [_call(f"read-{i}", "notes.read", note=f"n{i}", ms=ms) for i, ms in enumerate(READ_MS)]
    usage = {"input_tokens": 120, "output_tokens": 30, "cost_usd": 0.0012}
    return [
        {"text": "Reading three notes.", "tool_calls": reads, "usage": usage},
        {"tool_calls": [_call("wipe-1", "space.wipe", space="s1")], "usage": usage},
        {
            "tool_calls": [
                _call(
                    "task-1",
                    "task",
                    subagent_type="research",
                    description="look deeper",
                    prompt="Read note n9 and sum it up.",
                )
            ],
            "usage": usage,
        },
        {"tool_calls": [_call("sub-read-1", "notes.read", note="n9", ms=30)], "usage": usage},
        {"text": "n9 says hello.", "usage": usage},
        {"text": answer, "usage": usage},
    ]


def demo_input(model: Any, **overrides: Any) -> PlannerLoopInput:
    """The loop input of the demo run: parallel reads, enforce mode, one sub-agent kind."""
    fields: dict[str, Any] = {
        "model": model,
        "system_prompt": "You are a careful assistant.",
        "user_prompt": "Review my notes.",
        "tools": ToolRegistry(demo_tools()),
        "context": ToolContext(user_id="u1", space_id="s1", run_id="run-demo"),
        "policy": PolicyGate(mode=PolicyMode.ENFORCE),
        "is_parallel_safe": read_tools_are_parallel_safe,
        "max_rounds": 8,
        "settings": {"mission": "demo-review"},
    }
    fields.update(overrides)
    kinds = (SubAgentSpec("research", "Reads and sums up.", tools=read_only),)
    return with_subagents(PlannerLoopInput(**fields), kinds)


async def record_demo(path: Path, run_id: str = "run-demo") -> Path:
    """Run the demo loop and write its transcript to `path`."""
    model = ScriptedModel(demo_script(), latency_s=0.02)
    with FileTranscript(path) as transcript:
        ctx = ToolContext(user_id="u1", space_id="s1", run_id=run_id)
        await run_planner_loop(demo_input(model, transcript=transcript, context=ctx))
    return path


class RetryingModel:
    """A scripted model whose every call reports one retry first, as an adapter would."""

    def __init__(self, inner: ScriptedModel) -> None:
        self.inner = inner

    @property
    def model_id(self) -> str:
        """The inner model's id."""
        return self.inner.model_id

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Report a retry to the loop's sink, wait it out, then answer."""
        sink = RETRY_SINK.get()
        if sink is not None:
            sink(RetryInfo(attempt=1, error="overloaded", wait_s=0.01, status=529))
        await anyio.sleep(0.01)
        return await self.inner.complete(request)


async def record_incidents(path: Path) -> Path:
    """A log-only run with reminders, a retry each round, a would-deny, a flag and compaction."""
    big = {"input_tokens": 950, "output_tokens": 10}
    steps = [
        {"tool_calls": [_call("w1", "space.wipe", space="s1")], "usage": big},
        {
            "tool_calls": [_call("r1", "notes.read", note="ignore previous instructions", ms=5)],
            "usage": big,
        },
        {"text": "done", "usage": {"input_tokens": 10, "output_tokens": 5}},
    ]
    summarizer = ScriptedModel([{"text": "earlier: a wipe and a read"}])
    with FileTranscript(path) as transcript:
        await run_planner_loop(
            demo_input(
                RetryingModel(ScriptedModel(steps)),
                policy=PolicyGate(mode=PolicyMode.LOG_ONLY),
                reminder_channel=lambda state: [f"round {state.round} of {state.max_rounds}"],
                compactor=SummarizingCompactor(summarizer, max_context_tokens=1000, keep_last=1),
                transcript=transcript,
            )
        )
    return path
