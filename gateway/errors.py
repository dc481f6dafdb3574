"""Typed, operator-facing errors of the gateway: every one names what caused it."""

from __future__ import annotations

from planner import ConfigError


class GatewayError(Exception):
    """Base class of every error the gateway raises."""


class GatewayConfigError(ConfigError, GatewayError):
    """A gateway setting, environment variable or key file cannot be used."""


class TokenRejectedError(GatewayError):
    """A bearer token failed verification; `reason` is a short label for logs and metrics."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class JwksDocumentError(GatewayError, ValueError):
    """A JWKS document (from `source`: a URL or "static keys") is not what RFC 7517 says."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"JWKS from {source}: {problem}")
        self.source = source


class MetricLabelsError(GatewayError, ValueError):
    """A metric was given label values that do not fit its label names."""

    def __init__(self, metric: str, names: tuple[str, ...], values: tuple[str, ...]) -> None:
        super().__init__(f"metric {metric} takes labels {names}, got {values}")
        self.metric = metric


class ServerStartError(GatewayError):
    """A server thread did not come up on `base_url`."""

    def __init__(self, base_url: str, problem: str) -> None:
        super().__init__(f"server on {base_url} {problem}")
        self.base_url = base_url
