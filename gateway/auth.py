"""Bearer-token identity: JWT verification against a JWKS (remote or the local signing key).

The verifier is the SDK's `TokenVerifier`: it returns an `AccessToken` whose subject is the
user id, or None (the SDK then answers 401 with `WWW-Authenticate` and the protected-resource
metadata URL). Keys come from a `KeySource`: `JwksCache` fetches a provider's JWKS with an
async HTTP client (never blocking the event loop), keeps it for a TTL and refetches once per
cooldown when a token names an unknown `kid`; `LocalSigner` is the one-machine identity: a
key under ./var/ (mode 0600) that mints tokens and publishes its own JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
import httpx2
import jwt
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from mcp.server.auth.provider import AccessToken

from gateway.errors import GatewayConfigError, JwksDocumentError, TokenRejectedError
from gateway.settings import ALLOWED_ALGORITHMS

log = structlog.get_logger("gateway.auth")

REQUIRED_CLAIMS = ("exp", "iss", "aud", "sub")
VERIFIED_TTL_S = 60.0
"""How long a verified token is taken on trust (never past its `exp`): a key dropped from
the JWKS stops opening the gateway within this long."""
MAX_VERIFIED = 10_000
JWKS_FETCH_TIMEOUT_S = 10.0
SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class KeySource(Protocol):
    """Where verification keys come from, by `kid`."""

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The key with this id (or the only key, for a token without `kid`), or None."""
        ...


def parse_jwks(document: Mapping[str, Any], source: str = "static keys") -> dict[str, jwt.PyJWK]:
    """Signature keys of a JWKS by `kid`; keys of other uses or algorithms are skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    raw_keys = document.get("keys")
    if not isinstance(raw_keys, list):
        raise JwksDocumentError(source, "a JWKS document needs a `keys` list")
    for i, raw in enumerate(raw_keys):
        if not isinstance(raw, dict) or raw.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(raw)
        except jwt.PyJWKError as exc:
            log.info("jwks.key_skipped", index=i, error=str(exc))
            continue
        if key.algorithm_name not in ALLOWED_ALGORITHMS:
            continue
        keys[key.key_id or f"#{i}"] = key
    return keys


def _pick(keys: Mapping[str, jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is not None:
        return keys.get(kid)
    return next(iter(keys.values())) if len(keys) == 1 else None


class StaticKeys:
    """A fixed key set (the local signer's)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._keys = parse_jwks(document)

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The key with this id."""
        return _pick(self._keys, kid)


class JwksCache:
    """A remote JWKS: fetched with an async client, cached for a TTL, refetched on unknown kid."""

    def __init__(
        self,
        url: str,
        *,
        ttl_s: float = 300.0,
        refetch_cooldown_s: float = 10.0,
        http_client: httpx2.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.ttl_s = ttl_s
        self.refetch_cooldown_s = refetch_cooldown_s
        self.clock = clock
        self.fetches = 0
        self._client = http_client
        self._owns_client = http_client is None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._tried_at: float | None = None
        self._lock = anyio.Lock()

    async def aclose(self) -> None:
        """Close the HTTP client if this cache created it."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The key for `kid`: from the cache, else from one refetch (at most once a cooldown)."""
        if self._fetched_at is None or self.clock() - self._fetched_at >= self.ttl_s:
            await self._refresh()
        found = _pick(self._keys, kid)
        if found is None and kid is not None:
            await self._refresh()
            found = _pick(self._keys, kid)
        return found

    async def _refresh(self) -> None:
        """Fetch the JWKS unless a fetch was tried within the cooldown; keep old keys on failure."""
        async with self._lock:
            now = self.clock()
            if self._tried_at is not None and now - self._tried_at < self.refetch_cooldown_s:
                return
            self._tried_at = now
            try:
                keys = parse_jwks(await self._fetch(), self.url)
            except (httpx2.HTTPError, ValueError) as exc:
                log.warning("jwks.fetch_failed", url=self.url, error=f"{type(exc).__name__}: {exc}")
                return
            self._keys = keys
            self._fetched_at = self.clock()

    async def _fetch(self) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx2.AsyncClient(timeout=JWKS_FETCH_TIMEOUT_S)
        self.fetches += 1
        response = await self._client.get(self.url, headers={"accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise JwksDocumentError(self.url, "the document is not a JSON object")
        return document


@dataclass(frozen=True)
class JwtRules:
    """What a valid token must carry."""

    issuer: str
    audience: str
    algorithms: tuple[str, ...] = ALLOWED_ALGORITHMS
    leeway_s: float = 30.0


class JwtVerifier:
    """The SDK `TokenVerifier`: PyJWT with an algorithm allow-list; iss, aud, exp, sub required."""

    def __init__(
        self,
        keys: KeySource,
        rules: JwtRules,
        on_reject: Callable[[str], None] | None = None,
        verified_ttl_s: float = VERIFIED_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.rules = rules
        self.on_reject = on_reject
        self.verified_ttl_s = verified_ttl_s
        self.clock = clock
        self._verified: OrderedDict[str, tuple[float, AccessToken]] = OrderedDict()

    async def verify_token(self, token: str) -> AccessToken | None:
        """The access token for a valid JWT, else None (logged with the reason).

        A token verified in the last `verified_ttl_s` (and not past `exp`) is not verified
        again: the signature check is most of what a call costs the gateway.
        """
        now = self.clock()
        cached = self._verified.get(token)
        if cached is not None:
            if now < cached[0]:
                return cached[1]
            del self._verified[token]
        access = await self._verify_access(token)
        if access is not None and access.expires_at is not None:
            until = min(now + self.verified_ttl_s, access.expires_at + self.rules.leeway_s)
            self._verified[token] = (until, access)
            if len(self._verified) > MAX_VERIFIED:
                self._verified.popitem(last=False)
        return access

    async def _verify_access(self, token: str) -> AccessToken | None:
        try:
            claims = await self.verify(token)
        except TokenRejectedError as exc:
            log.info("auth.token_rejected", reason=exc.reason, detail=exc.detail)
            if self.on_reject is not None:
                self.on_reject(exc.reason)
            return None
        subject = str(claims["sub"])
        scope = claims.get("scope")
        client_id = claims.get("azp") or claims.get("client_id") or subject
        return AccessToken(
            token=token,
            client_id=str(client_id),
            scopes=scope.split() if isinstance(scope, str) else [],
            expires_at=int(claims["exp"]),
            subject=subject,
            claims={"iss": claims["iss"], "aud": claims["aud"]},
        )

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; TokenRejectedError naming why otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenRejectedError("malformed", str(exc)) from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.rules.algorithms:
            raise TokenRejectedError("algorithm-not-allowed", repr(alg))
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRejectedError("malformed", "kid is not a string")
        key = await self.keys.key(kid)
        if key is None:
            raise TokenRejectedError("unknown-kid", repr(kid))
        if key.algorithm_name != alg:
            raise TokenRejectedError(
                "algorithm-key-mismatch", f"{alg} token, {key.algorithm_name} key"
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.rules.audience,
                issuer=self.rules.issuer,
                leeway=self.rules.leeway_s,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejectedError("expired") from None
        except jwt.InvalidIssuerError:
            raise TokenRejectedError("wrong-issuer") from None
        except jwt.InvalidAudienceError:
            raise TokenRejectedError("wrong-audience") from None
        except jwt.InvalidSignatureError:
            raise TokenRejectedError("bad-signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejectedError("missing-claim", exc.claim) from None
        except jwt.InvalidTokenError as exc:
            raise TokenRejectedError("invalid", f"{type(exc).__name__}: {exc}") from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"].strip():
            raise TokenRejectedError("missing-claim", "sub")
        return claims


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint of a public JWK (SHA-256, base64url)."""
    members = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
    required = members[str(jwk["kty"])]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def _algorithm_for(key: SigningKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name != "secp256r1":
            raise GatewayConfigError(f"EC signing keys must be P-256 (ES256), not {key.curve.name}")
        return "ES256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if key.key_size < 2048:
        raise GatewayConfigError("RSA signing keys must have at least 2048 bits")
    return "RS256"


class LocalSigner:
    """The one-machine identity: a private key file (mode 0600) that signs and publishes keys."""

    def __init__(self, key: SigningKey) -> None:
        self._key = key
        self.algorithm = _algorithm_for(key)
        public = jwt.get_algorithm_by_name(self.algorithm).to_jwk(key.public_key(), as_dict=True)
        self.kid = jwk_thumbprint(public)
        self._public_jwk: dict[str, Any] = {**public, "kid": self.kid, "alg": self.algorithm}
        self._public_jwk["use"] = "sig"

    @classmethod
    def load_or_create(cls, path: Path) -> LocalSigner:
        """Load the key at `path`, creating an ES256 key there (mode 0600) when absent."""
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return cls.load(path)  # another process created it first
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            log.info("auth.signing_key_created", path=str(path))
            return cls(key)
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> LocalSigner:
        """Load a PEM private key; refuse a file others can read or write."""
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise GatewayConfigError(
                f"{path}: signing key is readable by others (mode {mode:o}); run chmod 600 {path}"
            )
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise GatewayConfigError(f"{path}: not an unencrypted PEM private key: {exc}") from None
        if not isinstance(
            key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
        ):
            raise GatewayConfigError(f"{path}: use an ES256, EdDSA (Ed25519) or RS256 key")
        return cls(key)

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document served at /.well-known/jwks.json."""
        return {"keys": [dict(self._public_jwk)]}

    def mint(
        self,
        user_id: str,
        *,
        issuer: str,
        audience: str,
        ttl_s: int = 3600,
        now: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token for `user_id` (the subject), valid for `ttl_s` seconds."""
        if not user_id.strip():
            raise GatewayConfigError("a token needs a non-empty user id")
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "sub": user_id,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_s,
            "jti": uuid.uuid4().hex,
            **(extra or {}),
        }
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers={"kid": self.kid})
