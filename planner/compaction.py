"""Context compaction: replace older history with one model-written summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from planner.messages import Message, ModelRequest, ToolSchema, Usage
from planner.models.base import Model

COMPACTION_THRESHOLD = 0.92
KEEP_LAST = 4
SUMMARY_PROMPT = (
    "Summarize the conversation above for your own later use. Use exactly these headings:\n"
    "Goal\nDecisions\nTools called\nCurrent progress\n"
    "Be concise and keep every fact needed to continue the work."
)


@dataclass(frozen=True)
class Compacted:
    """A compaction's outcome: the new history, and what the summarizing call used."""

    messages: list[Message]
    usage: Usage = field(default_factory=Usage)


class Compactor(Protocol):
    """Shrinks history when the context fills up."""

    max_context_tokens: int

    async def compact(
        self, system_prompt: str, messages: Sequence[Message], tools: Sequence[ToolSchema] = ()
    ) -> Compacted:
        """Return the new, shorter history and the usage it cost."""
        ...


def split_point(messages: Sequence[Message], keep_last: int = KEEP_LAST) -> int:
    """Index where the verbatim tail starts, moved back so no tool result loses its call."""
    cut = max(0, len(messages) - keep_last)
    while cut > 0 and messages[cut].role == "tool":
        cut -= 1
    return cut


class SummarizingCompactor:
    """Keeps the last messages verbatim and asks the model to summarize the rest."""

    def __init__(self, model: Model, max_context_tokens: int, keep_last: int = KEEP_LAST) -> None:
        self.model = model
        self.max_context_tokens = max_context_tokens
        self.keep_last = keep_last

    async def compact(
        self, system_prompt: str, messages: Sequence[Message], tools: Sequence[ToolSchema] = ()
    ) -> Compacted:
        """Summarize everything before the verbatim tail into one user message."""
        cut = split_point(messages, self.keep_last)
        if cut == 0:
            return Compacted(list(messages))
        older, tail = list(messages[:cut]), list(messages[cut:])
        request = ModelRequest(
            system_prompt=system_prompt,
            messages=(*older, Message(role="user", content=SUMMARY_PROMPT)),
            # Providers reject tool_use/tool_result blocks without tool definitions (Anthropic
            # 400); the run's own tools also keep the cached system + tools + history prefix.
            tools=tuple(tools),
        )
        response = await self.model.complete(request)
        summary = Message(
            role="user", content=f"Summary of the earlier conversation:\n{response.text}"
        )
        return Compacted([summary, *tail], response.usage)
