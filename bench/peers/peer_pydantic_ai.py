"""pydantic-ai, driven through its own `FunctionModel` (an async function, no thread hop)."""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import version

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.tool_manager import ToolManager

from bench.peers.common import ANSWER, COUNTS, Peer, Script, main


def model_for(s: Script) -> FunctionModel:
    """A FunctionModel that plays `s`; the round is read from the history it is sent."""

    async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        COUNTS.model_calls += 1
        index = sum(isinstance(m, ModelResponse) for m in messages)
        if s.latency_s:
            await asyncio.sleep(s.latency_s)
        delays = s.step(index)
        if delays is None:
            return ModelResponse(parts=[TextPart(ANSWER)])
        return ModelResponse(
            parts=[
                # providers send arguments as a JSON string: pydantic-ai parses and validates it
                ToolCallPart("sleep", json.dumps({"ms": d}), tool_call_id=f"c{index}_{i}")
                for i, d in enumerate(delays)
            ]
        )

    return FunctionModel(respond)


AGENT: Agent[None, str] = Agent(instructions="bench")


@AGENT.tool_plain  # type: ignore[untyped-decorator]
async def sleep(ms: float) -> str:
    """Sleep for ms milliseconds."""
    COUNTS.tool_calls += 1
    if ms:
        await asyncio.sleep(ms / 1000)
    return "ok"


_MODELS: dict[Script, FunctionModel] = {}


async def run(s: Script, mode: str) -> str:
    """One agent run; `sequential` uses ToolManager.parallel_execution_mode('sequential')."""
    model = _MODELS.get(s) or _MODELS.setdefault(s, model_for(s))
    if mode == "sequential":
        with ToolManager.parallel_execution_mode("sequential"):
            result = await AGENT.run("bench", model=model)
    else:
        result = await AGENT.run("bench", model=model)
    return str(result.output)


PEER = Peer(
    name="pydantic-ai",
    version=version("pydantic-ai-slim"),
    run=run,
    modes={
        "uncapped": "default: every call of a round at once",
        "sequential": "ToolManager.parallel_execution_mode('sequential')",
    },
    default_mode="uncapped",
    config=[
        "one module-level Agent reused across runs (the documented pattern)",
        "FunctionModel with an async function (a sync one runs in a thread)",
        "instrumentation off (the default; logfire not installed)",
        "tool arguments as JSON strings, as OpenAI-style providers send them",
    ],
)

if __name__ == "__main__":
    main(PEER)
