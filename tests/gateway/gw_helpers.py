"""Helpers for the gateway tests: a key ring served as JWKS, token forging, MCP clients."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from gateway import SPACE_HEADER

ISSUER = "https://issuer.test"
AUDIENCE = "mana-gateway-test"
MODES = ("legacy", "2026-07-28")
"""The legacy session handshake and the current single-exchange protocol."""
LEGACY_VERSION = "2025-11-25"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass
class SigningKey:
    """A private key, its algorithm and kid."""

    kid: str
    alg: str
    key: PrivateKey

    def public_jwk(self) -> dict[str, Any]:
        """The public JWK as a provider would publish it."""
        jwk = jwt.get_algorithm_by_name(self.alg).to_jwk(self.key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig"}

    def public_pem(self) -> bytes:
        """The public key in PEM (what an HS256 forgery would use as the secret)."""
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def new_key(alg: str, kid: str | None = None) -> SigningKey:
    """A fresh ES256, RS256 or EdDSA key."""
    key: PrivateKey
    if alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    return SigningKey(kid or f"{alg.lower()}-{uuid.uuid4().hex[:8]}", alg, key)


@dataclass
class KeyRing:
    """The identity provider of the tests: keys it signs with and the JWKS it publishes."""

    keys: list[SigningKey] = field(default_factory=list)
    fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        """The published JWKS document."""
        return {"keys": [k.public_jwk() for k in self.keys]}

    def app(self) -> ASGIApp:
        """A tiny Starlette app serving the JWKS at /jwks.json."""

        async def serve_jwks(_request: Request) -> Response:
            self.fetches += 1
            return JSONResponse(self.jwks())

        return Starlette(routes=[Route("/jwks.json", serve_jwks)])

    def token(
        self,
        user: str,
        *,
        key: SigningKey | None = None,
        ttl_s: int = 600,
        headers: Mapping[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A token signed by `key` (default the first key), with claims overridable."""
        signer = key or self.keys[0]
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user,
            "iat": now,
            "exp": now + ttl_s,
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        header = {"kid": signer.kid, **(headers or {})}
        return jwt.encode(payload, signer.key, algorithm=signer.alg, headers=header)


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(header: Mapping[str, Any], claims: Mapping[str, Any], secret: bytes | None) -> str:
    """A hand-built JWT: unsigned (`secret` None) or HMAC-SHA256 with `secret`."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    signing_input = f"{head}.{body}".encode()
    if secret is None:
        return f"{head}.{body}."
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


def claims_for(user: str, **overrides: Any) -> dict[str, Any]:
    """Valid claims for `user`."""
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": user, "iat": now, "exp": now + 600, **overrides}


@asynccontextmanager
async def connect(
    url: str, token: str | None, mode: str, *, space: str | None = None
) -> AsyncIterator[Client]:
    """The SDK's own client on the SDK's Streamable HTTP transport, in `mode`."""
    headers = {}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if space is not None:
        headers[SPACE_HEADER] = space
    async with (
        httpx2.AsyncClient(headers=headers, timeout=20) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


def rpc(method: str, params: Mapping[str, Any] | None = None, rid: int = 1) -> dict[str, Any]:
    """A JSON-RPC request body."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        body["params"] = dict(params)
    return body


MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def raw_post_head(mcp_url: str, token: str, framing: str) -> bytes:
    """The head of a POST to the MCP endpoint written by hand, with `framing` headers
    (e.g. a content-length) as given, for bodies no client library would send."""
    url = urlsplit(mcp_url)
    head = (
        f"POST {url.path} HTTP/1.1\r\nhost: {url.netloc}\r\nauthorization: Bearer {token}\r\n"
        "content-type: application/json\r\naccept: application/json, text/event-stream\r\n"
    )
    return f"{head}{framing}\r\n".encode()


def initialize_body() -> dict[str, Any]:
    """A legacy `initialize` request."""
    return rpc(
        "initialize",
        {
            "protocolVersion": LEGACY_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "raw-test", "version": "1"},
        },
    )


def text_of(result: Any) -> str:
    """The text content of a CallToolResult."""
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
