"""The reminder channel and its built-in producers."""

from planner import LoopState, Reminder, ReminderChannel
from reminders.channel import PRODUCERS, build_channel, compose
from reminders.producers import (
    Producer,
    compacted,
    last_round,
    policy_flags,
    retry_loop,
    token_budget,
)

__all__ = [
    "PRODUCERS",
    "LoopState",
    "Producer",
    "Reminder",
    "ReminderChannel",
    "build_channel",
    "compacted",
    "compose",
    "last_round",
    "policy_flags",
    "retry_loop",
    "token_budget",
]
