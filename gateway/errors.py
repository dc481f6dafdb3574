"""Typed, operator-facing errors of the gateway."""

from __future__ import annotations

from planner.errors import ConfigError


class GatewayConfigError(ConfigError):
    """A gateway setting, environment variable or key file cannot be used."""


class TokenRejectedError(Exception):
    """A bearer token failed verification; `reason` is a short label for logs and metrics."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
