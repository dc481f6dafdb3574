"""The policy gate a mission runs under, built from its config."""

from __future__ import annotations

from missions.config import MissionConfig
from planner import PolicyGate, PolicyMode, UserPolicySettings


def policy_gate(cfg: MissionConfig, mode: PolicyMode | None = None) -> PolicyGate:
    """The mission's gate: its mode override (else POLICY_MODE), opt-ins and rate limits."""
    settings = UserPolicySettings(
        allow_destructive=frozenset(cfg.policy.allow_destructive),
        per_tool_rate_limit=dict(cfg.policy.rate_limits),
    )
    return PolicyGate(mode=mode or cfg.policy.mode, settings_for=lambda _user: settings)
