"""Gateway settings: built once (from the environment in the CLI) and passed as arguments."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.errors import GatewayConfigError
from planner import PolicyMode
from toolkits import DATABASE_URL_ENV, VAR_DIR_ENV

JWKS_URL_ENV = "MANA_JWKS_URL"
ISSUER_ENV = "MANA_JWT_ISSUER"
AUDIENCE_ENV = "MANA_JWT_AUDIENCE"
PUBLIC_URL_ENV = "MANA_GATEWAY_URL"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3069
LOCAL_ISSUER = "urn:mana-planner:local"
"""The `iss` of tokens the gateway's local key signs (when no MANA_JWT_ISSUER is set)."""
DEFAULT_AUDIENCE = "mana-planner"
ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
MCP_PATH = "/mcp"
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
"""4 MiB: room for 1 MiB of arguments in any JSON escaping, far below what would hurt."""
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_TTL_RE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_TTL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str) -> int:
    """Seconds from `90`, `90s`, `30m`, `1h` or `7d`."""
    match = _TTL_RE.match(text.lower())
    if match is None or int(match.group(1)) <= 0:
        raise GatewayConfigError(f"ttl {text!r} must be a positive number with s, m, h or d")
    return int(match.group(1)) * _TTL_UNITS[match.group(2)]


@dataclass(frozen=True)
class GatewaySettings:
    """Where the gateway listens, whom it trusts, which store it serves and how it gates."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_url: str | None = None
    """The base URL clients use (default http://host:port); the resource URL is this + /mcp."""
    var_dir: Path = Path("var")
    database_url: str | None = None
    jwks_url: str | None = None
    """Trust an outside provider's keys; None means the local signing key under var_dir."""
    issuer: str = LOCAL_ISSUER
    audience: str = DEFAULT_AUDIENCE
    policy_mode: PolicyMode = PolicyMode.LOG_ONLY
    allow_destructive: frozenset[str] = frozenset()
    """Destructive tools every gateway user has opted in to (none by default)."""
    rate_limits: Mapping[str, int] = field(default_factory=dict)
    """Per-tool call limits per user per window (default 30 per 60 s)."""
    jwks_ttl_s: float = 300.0
    jwks_refetch_cooldown_s: float = 10.0
    """At most one refetch per this many seconds for tokens naming an unknown `kid`."""
    leeway_s: float = 30.0
    stateless: bool = False
    """True: no legacy sessions (the 2026 protocol needs none). False serves both."""
    json_response: bool = False
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """Request bodies over this many bytes are refused with 413 before anything parses them."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        """Settings from MANA_JWKS_URL, MANA_JWT_ISSUER, MANA_JWT_AUDIENCE, POLICY_MODE, ...

        Adjust the rest (host, port, opt-ins) with `dataclasses.replace`.
        """
        env = os.environ if environ is None else environ
        jwks_url = env.get(JWKS_URL_ENV) or None
        issuer = env.get(ISSUER_ENV) or None
        audience = env.get(AUDIENCE_ENV) or None
        if jwks_url is not None and (issuer is None or audience is None):
            raise GatewayConfigError(
                f"{JWKS_URL_ENV} is set: {ISSUER_ENV} and {AUDIENCE_ENV} must be set too "
                "(the gateway requires and checks both claims)"
            )
        return cls(
            var_dir=Path(env.get(VAR_DIR_ENV) or "var"),
            database_url=env.get(DATABASE_URL_ENV) or None,
            jwks_url=jwks_url,
            issuer=issuer or LOCAL_ISSUER,
            audience=audience or DEFAULT_AUDIENCE,
            policy_mode=PolicyMode.from_env(env),
            public_url=env.get(PUBLIC_URL_ENV) or None,
        )

    @property
    def local_identity(self) -> bool:
        """True when the gateway signs and serves its own keys (no MANA_JWKS_URL)."""
        return self.jwks_url is None

    @property
    def base_url(self) -> str:
        """The gateway's public base URL, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def resource_url(self) -> str:
        """The MCP endpoint: the protected resource clients name."""
        return self.base_url + MCP_PATH

    @property
    def authorization_server(self) -> str:
        """What the protected-resource metadata names as the token issuer (an http URL)."""
        if self.issuer.startswith(("http://", "https://")):
            return self.issuer
        return self.base_url

    @property
    def signing_key_path(self) -> Path:
        """The local signing key (PEM, mode 0600)."""
        return self.var_dir / "gateway" / "jwt-signing-key.pem"

    @property
    def store_url(self) -> str:
        """The app database: MANA_DATABASE_URL, else SQLite at var/mana.db."""
        return self.database_url or f"sqlite:///{self.var_dir / 'mana.db'}"

    @property
    def is_loopback(self) -> bool:
        """True when listening on a loopback address (DNS-rebinding protection applies)."""
        return self.host in LOOPBACK_HOSTS
