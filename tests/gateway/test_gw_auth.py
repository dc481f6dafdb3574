"""Auth attacks over real HTTP: every bad token is a 401 with the protected-resource challenge."""

from __future__ import annotations

import time

import httpx2
import jwt
import pytest

from gateway import GatewayThread, JwksCache, JwtRules, JwtVerifier, ServerThread, StaticKeys
from gateway.errors import GatewayConfigError, TokenRejectedError
from gateway.settings import GatewaySettings, parse_ttl
from tests.gateway.gw_helpers import (
    AUDIENCE,
    ISSUER,
    MCP_HEADERS,
    KeyRing,
    claims_for,
    connect,
    forge,
    initialize_body,
    new_key,
)


async def _post(gw: GatewayThread, token: str | None) -> httpx2.Response:
    headers = dict(MCP_HEADERS)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    async with httpx2.AsyncClient(timeout=10) as http:
        return await http.post(gw.mcp_url, json=initialize_body(), headers=headers)


def _bad_tokens(ring: KeyRing, user: str) -> dict[str, str]:
    es = ring.keys[0]
    impostor = new_key("ES256", kid=es.kid)  # same kid, different private key
    return {
        "bad signature": ring.token(user, key=impostor),
        "expired": ring.token(user, exp=int(time.time()) - 300),
        "wrong iss": ring.token(user, iss="https://evil.test"),
        "wrong aud": ring.token(user, aud="someone-else"),
        "no exp": ring.token(user, exp=None),
        "no sub": ring.token(user, sub=None),
        "alg none": forge({"alg": "none", "typ": "JWT", "kid": es.kid}, claims_for(user), None),
        "HS256 with the public key": forge(
            {"alg": "HS256", "typ": "JWT", "kid": ring.keys[1].kid},
            claims_for(user),
            ring.keys[1].public_pem(),
        ),
        "unknown kid": ring.token(user, key=new_key("ES256", kid="nobody-knows-me")),
        "garbage": "not-a-jwt",
    }


async def test_no_token_is_401_with_challenge_and_metadata(enforce_gw: GatewayThread) -> None:
    response = await _post(enforce_gw, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    metadata_url = f"{enforce_gw.settings.base_url}/.well-known/oauth-protected-resource/mcp"
    assert f'resource_metadata="{metadata_url}"' in challenge
    async with httpx2.AsyncClient() as http:
        metadata = (await http.get(metadata_url)).json()
    assert metadata["resource"] == enforce_gw.mcp_url
    assert metadata["authorization_servers"]


@pytest.mark.parametrize(
    "attack",
    [
        "bad signature",
        "expired",
        "wrong iss",
        "wrong aud",
        "no exp",
        "no sub",
        "alg none",
        "HS256 with the public key",
        "unknown kid",
        "garbage",
    ],
)
async def test_bad_tokens_are_401(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str, attack: str
) -> None:
    token = _bad_tokens(key_ring, user)[attack]
    response = await _post(enforce_gw, token)
    assert response.status_code == 401, attack
    assert "resource_metadata=" in response.headers["www-authenticate"]


async def test_the_sdk_client_is_refused_in_both_modes(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str, mode: str
) -> None:
    expired = key_ring.token(user, exp=int(time.time()) - 300)
    with pytest.raises(Exception):  # noqa: B017 - the SDK wraps the 401 in a task-group error
        async with connect(enforce_gw.mcp_url, expired, mode) as client:
            await client.list_tools()


@pytest.mark.parametrize("index", [0, 1, 2], ids=["ES256", "RS256", "EdDSA"])
async def test_each_allowed_algorithm_is_accepted(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str, index: int
) -> None:
    token = key_ring.token(user, key=key_ring.keys[index])
    response = await _post(enforce_gw, token)
    assert response.status_code == 200


async def test_unknown_kid_refetches_the_jwks(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    rotated = new_key("ES256")
    token = key_ring.token(user, key=rotated)
    assert (await _post(enforce_gw, token)).status_code == 401
    before = key_ring.fetches
    key_ring.keys.append(rotated)  # the provider rotates: the new kid appears in its JWKS
    try:
        assert (await _post(enforce_gw, token)).status_code == 200
    finally:
        key_ring.keys.remove(rotated)
    assert key_ring.fetches > before


async def test_auth_failures_are_counted_by_reason(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    await _post(enforce_gw, key_ring.token(user, aud="nope"))
    async with httpx2.AsyncClient() as http:
        text = (await http.get(f"{enforce_gw.settings.base_url}/metrics")).text
    assert 'mana_gateway_auth_failures_total{reason="wrong-audience"}' in text


# --- the verifier and the key cache, without HTTP -------------------------------------------


async def test_a_key_of_another_algorithm_is_refused(key_ring: KeyRing, user: str) -> None:
    rsa_key = key_ring.keys[1]
    verifier = JwtVerifier(StaticKeys(key_ring.jwks()), JwtRules(ISSUER, AUDIENCE))
    token = forge({"alg": "ES256", "kid": rsa_key.kid}, claims_for(user), b"x")
    with pytest.raises(TokenRejectedError) as caught:
        await verifier.verify(token)
    assert caught.value.reason == "algorithm-key-mismatch"


async def test_verified_token_maps_to_an_access_token(key_ring: KeyRing, user: str) -> None:
    verifier = JwtVerifier(StaticKeys(key_ring.jwks()), JwtRules(ISSUER, AUDIENCE))
    access = await verifier.verify_token(key_ring.token(user, scope="read write"))
    assert access is not None
    assert access.subject == user
    assert access.scopes == ["read", "write"]
    assert access.claims == {"iss": ISSUER, "aud": AUDIENCE}


async def test_jwks_cache_keeps_keys_for_the_ttl_and_throttles_refetches(
    jwks_server: ServerThread, key_ring: KeyRing
) -> None:
    now = [0.0]
    cache = JwksCache(
        f"{jwks_server.base_url}/jwks.json",
        ttl_s=100,
        refetch_cooldown_s=10,
        clock=lambda: now[0],
    )
    try:
        assert await cache.key(key_ring.keys[0].kid) is not None
        assert cache.fetches == 1
        assert await cache.key(key_ring.keys[1].kid) is not None
        assert cache.fetches == 1  # cached
        assert await cache.key("unknown") is None
        assert cache.fetches == 1  # inside the cooldown: no refetch
        now[0] = 11
        assert await cache.key("unknown") is None
        assert cache.fetches == 2  # cooldown over: one refetch
        now[0] = 200
        assert await cache.key(key_ring.keys[0].kid) is not None
        assert cache.fetches == 3  # TTL over
    finally:
        await cache.aclose()


async def test_jwks_cache_survives_an_unreachable_provider() -> None:
    cache = JwksCache("http://127.0.0.1:9/jwks.json", refetch_cooldown_s=60)
    try:
        assert await cache.key("any") is None
        assert cache.fetches == 1
    finally:
        await cache.aclose()


def test_outside_provider_needs_issuer_and_audience() -> None:
    with pytest.raises(GatewayConfigError, match="MANA_JWT_ISSUER"):
        GatewaySettings.from_env({"MANA_JWKS_URL": "https://idp.test/jwks.json"})
    settings = GatewaySettings.from_env(
        {
            "MANA_JWKS_URL": "https://idp.test/jwks.json",
            "MANA_JWT_ISSUER": "https://idp.test",
            "MANA_JWT_AUDIENCE": "mana",
            "POLICY_MODE": "enforce",
        }
    )
    assert not settings.local_identity
    assert settings.policy_mode.value == "enforce"
    assert settings.authorization_server == "https://idp.test"


def test_ttl_parsing() -> None:
    assert parse_ttl("1h") == 3600
    assert parse_ttl("90") == 90
    assert parse_ttl("2d") == 172800
    with pytest.raises(GatewayConfigError):
        parse_ttl("soon")


def test_pyjwt_refuses_none_even_when_asked() -> None:
    """Belt and braces: the allow-list never contains `none` or an HS algorithm."""
    assert not {"none", "HS256", "HS384", "HS512"} & set(JwtRules(ISSUER, AUDIENCE).algorithms)
    assert jwt.__version__
