"""Built-in reminder producers: each looks at the loop state and may say one thing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from planner import LoopState, policy_flag_reminders


@dataclass(frozen=True)
class Producer:
    """A named function from loop state to reminder texts."""

    name: str
    produce: Callable[[LoopState], Sequence[str]]

    def __call__(self, state: LoopState) -> Sequence[str]:
        """The reminders this producer has for this round."""
        return self.produce(state)


def token_budget(budget: int) -> Producer:
    """Warn at 75% of the token budget; escalate at 100%."""

    def produce(state: LoopState) -> list[str]:
        used = state.usage.total_tokens
        if used >= budget:
            return [
                f"Token budget exhausted ({used}/{budget}). Stop calling tools and give your "
                "final answer now."
            ]
        if used >= 0.75 * budget:
            return [f"{used / budget:.0%} of the token budget is used ({used}/{budget}). Be brief."]
        return []

    return Producer("token_budget", produce)


def retry_loop() -> Producer:
    """From round 3, when the last two calls failed, ask the model to change course."""

    def produce(state: LoopState) -> list[str]:
        last_two = state.recent_calls[-2:]
        if state.round >= 3 and len(last_two) == 2 and not any(c.ok for c in last_two):
            names = ", ".join(dict.fromkeys(c.name for c in last_two))
            return [
                f"Your last two tool calls ({names}) failed. Read the errors, change the "
                "arguments or the approach, and do not repeat the same call."
            ]
        return []

    return Producer("retry_loop", produce)


def compacted() -> Producer:
    """After a compaction, tell the model its older history is now a summary."""

    def produce(state: LoopState) -> list[str]:
        if state.compactions_done:
            return [
                "Earlier messages were replaced by a summary. Rely on it; do not redo work "
                "the summary says is done."
            ]
        return []

    return Producer("compacted", produce)


def last_round(max_rounds: int | None = None) -> Producer:
    """On the final round, tell the model to wrap up."""

    def produce(state: LoopState) -> list[str]:
        limit = max_rounds or state.max_rounds
        if limit and state.round >= limit:
            return ["This is your last round: give your final answer now, without tool calls."]
        return []

    return Producer("last_round", produce)


def policy_flags() -> Producer:
    """Tell the model when the policy gate flagged arguments as possible injection."""
    return Producer("policy", lambda state: [r.text for r in policy_flag_reminders(state)])
