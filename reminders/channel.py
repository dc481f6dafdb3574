"""Compose producers into one reminder channel, and build channels from config."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from planner import ConfigError, LoopState, Reminder, ReminderChannel
from reminders.producers import (
    Producer,
    compacted,
    last_round,
    policy_flags,
    retry_loop,
    token_budget,
)

PRODUCERS: Mapping[str, Callable[..., Producer]] = {
    "token_budget": token_budget,
    "retry_loop": retry_loop,
    "compacted": compacted,
    "last_round": last_round,
    "policy_flags": policy_flags,
}


def compose(*producers: Producer) -> ReminderChannel:
    """One channel that asks every producer, tagging each reminder with its source."""

    def channel(state: LoopState) -> list[Reminder]:
        return [Reminder(text, p.name) for p in producers for text in p(state)]

    return channel


def build_channel(
    spec: Mapping[str, Mapping[str, Any]], source: str = "reminders"
) -> ReminderChannel:
    """A channel from a `{producer: {option: value}}` table, as mission configs write it."""
    producers = []
    for name, options in spec.items():
        factory = PRODUCERS.get(name)
        if factory is None:
            known = ", ".join(PRODUCERS)
            raise ConfigError(f"{source}.{name}: unknown reminder producer (known: {known})")
        try:
            producers.append(factory(**dict(options)))
        except TypeError as exc:
            raise ConfigError(f"{source}.{name}: bad options: {exc}") from exc
    return compose(*producers)
