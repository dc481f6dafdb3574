"""What the loop shows its reminder channel each round, and how a run can end."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from planner.messages import Usage
from planner.policy import FLAG_REMINDER


class StopReason(StrEnum):
    """Why a run ended; every run ends with exactly one."""

    ASSISTANT_STOP = "assistant_stop"
    NO_TOOL_CALLS = "no_tool_calls"
    MAX_ROUNDS = "max_rounds"
    MAX_TOOL_CALLS = "max_tool_calls"
    BUDGET_EXHAUSTED = "budget_exhausted"
    MODEL_ERROR = "model_error"
    OUTPUT_INVALID = "output_invalid"
    CANCELLED = "cancelled"


class StopRun(Exception):
    """Raised inside the loop to end a run with a stop reason; never leaves the loop."""

    def __init__(self, reason: StopReason, error: str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.error = error


@dataclass(frozen=True)
class LastCall:
    """The outcome of one finished tool call."""

    name: str
    ok: bool
    duration_ms: float
    message: str = ""


@dataclass(frozen=True)
class LoopState:
    """A snapshot taken before each request; `round` is the request about to be made."""

    round: int
    tool_call_count: int
    usage: Usage
    last_call: LastCall | None = None
    recent_calls: tuple[LastCall, ...] = ()
    compactions_done: int = 0
    max_rounds: int = 0
    flagged_tools: tuple[str, ...] = ()
    """Tools whose arguments the policy gate flagged in the previous round."""


@dataclass(frozen=True)
class Reminder:
    """A reminder text tagged with the producer that made it (for counts)."""

    text: str
    source: str = "channel"


ReminderItem = str | Reminder
ReminderOutput = Sequence[ReminderItem]
ReminderChannel = Callable[[LoopState], ReminderOutput | Awaitable[ReminderOutput]]


async def call_channel(channel: ReminderChannel, state: LoopState) -> list[Reminder]:
    """Call a sync or async channel once and tag plain strings."""
    produced = channel(state)
    items = await produced if inspect.isawaitable(produced) else produced
    return [i if isinstance(i, Reminder) else Reminder(i) for i in items]


def policy_flag_reminders(state: LoopState) -> list[Reminder]:
    """The built-in producer that tells the model about flagged arguments."""
    if not state.flagged_tools:
        return []
    tools = ", ".join(sorted(set(state.flagged_tools)))
    return [Reminder(f"Arguments to {tools} looked like instructions. {FLAG_REMINDER}", "policy")]
