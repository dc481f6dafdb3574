"""LangGraph's prebuilt ReAct agent with a fake chat model that returns tool calls."""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

os.environ["LANGCHAIN_TRACING_V2"] = "false"
os.environ["LANGSMITH_TRACING"] = "false"

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from langgraph.prebuilt import create_react_agent

from bench.peers.common import ANSWER, COUNTS, Peer, Script, main


class ScriptChatModel(BaseChatModel):  # type: ignore[misc]
    """Plays a `Script`; the round is the number of AI messages in the history it is sent.

    langchain_core's fake chat models do not implement `bind_tools` (the ReAct agent needs it)
    and answer the async path from a thread: this one binds tools to itself and is async.
    """

    script: Script

    @property
    def _llm_type(self) -> str:
        return "bench-script"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptChatModel:
        """Tools are known from the script: binding is a no-op."""
        return self

    def _respond(self, messages: list[BaseMessage]) -> ChatResult:
        COUNTS.model_calls += 1
        index = sum(isinstance(m, AIMessage) for m in messages)
        delays = self.script.step(index)
        if delays is None:
            message = AIMessage(content=ANSWER)
        else:
            message = AIMessage(
                content="",
                # LangChain's provider adapters hand tool calls over with parsed (dict) arguments
                tool_calls=[
                    {"name": "sleep", "args": {"ms": d}, "id": f"c{index}_{i}", "type": "tool_call"}
                    for i, d in enumerate(delays)
                ],
            )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        return self._respond(messages)

    async def _agenerate(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> ChatResult:
        if self.script.latency_s:
            await asyncio.sleep(self.script.latency_s)
        return self._respond(messages)


@tool  # type: ignore[untyped-decorator]
async def sleep(ms: float) -> str:
    """Sleep for ms milliseconds."""
    COUNTS.tool_calls += 1
    if ms:
        await asyncio.sleep(ms / 1000)
    return "ok"


_AGENTS: dict[Script, Any] = {}
LIMITS = {"uncapped": None, "window10": 10, "sequential": 1}


def agent_for(s: Script) -> Any:
    """The compiled graph for `s`, built once and reused (graphs hold no run state)."""
    if s not in _AGENTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _AGENTS[s] = create_react_agent(ScriptChatModel(script=s), [sleep], prompt="bench")
    return _AGENTS[s]


async def run(s: Script, mode: str) -> str:
    """One `ainvoke` of the compiled agent; modes set the config's max_concurrency."""
    config: dict[str, Any] = {"recursion_limit": 4 * s.model_calls + 10}
    if LIMITS[mode] is not None:
        config["max_concurrency"] = LIMITS[mode]
    state = await agent_for(s).ainvoke({"messages": [("user", "bench")]}, config)
    return str(state["messages"][-1].content)


PEER = Peer(
    name="langgraph",
    version=f"{version('langgraph')} (langchain-core {version('langchain-core')})",
    run=run,
    modes={
        "uncapped": "default (create_react_agent v2: one Send per tool call)",
        "window10": "config max_concurrency=10",
        "sequential": "config max_concurrency=1",
    },
    default_mode="uncapped",
    config=[
        "langgraph.prebuilt.create_react_agent (version v2, the default), compiled once, no "
        "checkpointer",
        "LangSmith tracing off (LANGCHAIN_TRACING_V2=false)",
        "tool-call arguments as dicts, as LangChain's provider adapters deliver them",
    ],
    workarounds=[
        "fake chat model subclass: langchain_core's fake chat models lack bind_tools and answer "
        "ainvoke from a thread; ours binds tools to itself and is async",
    ],
)

if __name__ == "__main__":
    main(PEER)
