"""The MCP gateway: the app's tools over Streamable HTTP with JWT auth, spaces and policy."""

from gateway.auth import JwksCache, JwtRules, JwtVerifier, LocalSigner, StaticKeys
from gateway.errors import GatewayConfigError, GatewayError
from gateway.metrics import GatewayMetrics
from gateway.results import POLICY_META_KEY
from gateway.server import Gateway, gateway_app, open_gateway
from gateway.serving import GatewayThread, ServerThread, serve
from gateway.settings import GatewaySettings
from planner import SPACE_HEADER

__all__ = [
    "POLICY_META_KEY",
    "SPACE_HEADER",
    "Gateway",
    "GatewayConfigError",
    "GatewayError",
    "GatewayMetrics",
    "GatewaySettings",
    "GatewayThread",
    "JwksCache",
    "JwtRules",
    "JwtVerifier",
    "LocalSigner",
    "ServerThread",
    "StaticKeys",
    "gateway_app",
    "open_gateway",
    "serve",
]
