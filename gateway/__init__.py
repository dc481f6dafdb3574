"""The MCP gateway: the app's tools over Streamable HTTP with JWT auth, spaces and policy.

Every name is imported from its module on first use: the settings do not pull in the server.
"""

from typing import TYPE_CHECKING

from planner import SPACE_HEADER, lazy_exports

if TYPE_CHECKING:
    from gateway.auth import JwksCache, JwtRules, JwtVerifier, LocalSigner, StaticKeys
    from gateway.errors import GatewayConfigError, GatewayError
    from gateway.metrics import GatewayMetrics
    from gateway.results import POLICY_META_KEY
    from gateway.server import Gateway, gateway_app, open_gateway
    from gateway.serving import GatewayThread, ServerThread, serve
    from gateway.settings import MCP_PATH, GatewaySettings

__getattr__ = lazy_exports(
    __name__,
    {
        "gateway.auth": ("JwksCache", "JwtRules", "JwtVerifier", "LocalSigner", "StaticKeys"),
        "gateway.errors": ("GatewayConfigError", "GatewayError"),
        "gateway.metrics": ("GatewayMetrics",),
        "gateway.results": ("POLICY_META_KEY",),
        "gateway.server": ("Gateway", "gateway_app", "open_gateway"),
        "gateway.serving": ("GatewayThread", "ServerThread", "serve"),
        "gateway.settings": ("MCP_PATH", "GatewaySettings"),
    },
)

__all__ = [
    "MCP_PATH",
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
