"""The OpenAI Agents SDK, driven through a scripted `Model` (its model interface)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from importlib.metadata import version
from typing import Any

from agents import (
    Agent,
    ModelResponse,
    ModelSettings,
    RunConfig,
    Runner,
    ToolExecutionConfig,
    Usage,
    function_tool,
    set_tracing_disabled,
)
from agents.models.interface import Model
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

from bench.peers.common import ANSWER, COUNTS, Peer, Script, main


class BenchModel(Model):  # type: ignore[misc]
    """Plays a `Script`: one instance per run, so its step counter is the round."""

    def __init__(self, s: Script) -> None:
        self.s = s
        self.index = 0

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        """The next scripted response (tool calls with JSON-string arguments, or the answer)."""
        COUNTS.model_calls += 1
        index, self.index = self.index, self.index + 1
        if self.s.latency_s:
            await asyncio.sleep(self.s.latency_s)
        delays = self.s.step(index)
        output: list[Any]
        if delays is None:
            output = [
                ResponseOutputMessage(
                    id=f"msg{index}",
                    content=[ResponseOutputText(text=ANSWER, type="output_text", annotations=[])],
                    role="assistant",
                    status="completed",
                    type="message",
                )
            ]
        else:
            output = [
                ResponseFunctionToolCall(
                    id=f"fc{index}_{i}",
                    call_id=f"c{index}_{i}",
                    name="sleep",
                    arguments=json.dumps({"ms": d}),
                    type="function_call",
                    status="completed",
                )
                for i, d in enumerate(delays)
            ]
        return ModelResponse(output=output, usage=Usage(requests=1), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """Not used: the benchmark runs non-streamed."""
        raise NotImplementedError


@function_tool  # type: ignore[untyped-decorator]
async def sleep(ms: float) -> str:
    """Sleep for ms milliseconds."""
    COUNTS.tool_calls += 1
    if ms:
        await asyncio.sleep(ms / 1000)
    return "ok"


AGENT = Agent(name="bench", instructions="bench", tools=[sleep], model_settings=ModelSettings())
CONFIGS = {
    "uncapped": RunConfig(tracing_disabled=True),
    "window10": RunConfig(
        tracing_disabled=True,
        tool_execution=ToolExecutionConfig(max_function_tool_concurrency=10),
    ),
    "sequential": RunConfig(
        tracing_disabled=True,
        tool_execution=ToolExecutionConfig(max_function_tool_concurrency=1),
    ),
}


async def run(s: Script, mode: str) -> str:
    """One `Runner.run` with a fresh model; the agent is shared (it holds no run state)."""
    config = CONFIGS[mode]
    result = await Runner.run(
        AGENT,
        "bench",
        max_turns=s.model_calls + 1,
        run_config=RunConfig(
            model=BenchModel(s),
            tracing_disabled=True,
            tool_execution=config.tool_execution,
        ),
    )
    return str(result.final_output)


PEER = Peer(
    name="openai-agents",
    version=version("openai-agents"),
    run=run,
    modes={
        "uncapped": "default: every function call of a turn at once",
        "window10": "ToolExecutionConfig(max_function_tool_concurrency=10)",
        "sequential": "ToolExecutionConfig(max_function_tool_concurrency=1)",
    },
    default_mode="uncapped",
    config=[
        "tracing off: set_tracing_disabled(True) and RunConfig(tracing_disabled=True)",
        "one Agent shared, a fresh Model and RunConfig per run",
        "a minimal Model subclass: agents.testing.ScriptedModel deep-copies every input, "
        "a test-only cost a real provider does not have",
        "tool arguments as JSON strings (Responses API function_call items)",
    ],
    setup=lambda: set_tracing_disabled(True),
)

if __name__ == "__main__":
    main(PEER)
