"""The gateway under hostile or careless clients: body limits, the one pipeline, start-up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from structlog.testing import capture_logs

from gateway import GatewaySettings, GatewayThread, JwtRules, JwtVerifier, ServerThread, StaticKeys
from gateway.errors import GatewayError, JwksDocumentError, ServerStartError
from gateway.server import open_gateway
from gateway.settings import DEFAULT_MAX_REQUEST_BYTES
from planner.policy import PolicyMode
from tests.gateway.gw_helpers import (
    AUDIENCE,
    ISSUER,
    MCP_HEADERS,
    KeyRing,
    connect,
    raw_post_head,
    text_of,
)
from toolkits.store import open_store


async def test_invalid_arguments_never_count_against_the_rate_limit(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    async with connect(enforce_gw.mcp_url, key_ring.token(user), "2026-07-28") as client:
        invalid = [await client.call_tool("todo.create", {"nope": i}) for i in range(30)]
        valid = [await client.call_tool("todo.create", {"title": f"t{i}"}) for i in range(30)]
        over = await client.call_tool("todo.create", {"title": "one too many"})
    assert all(r.is_error and "invalid arguments" in text_of(r) for r in invalid)
    assert not any(r.is_error for r in valid)
    assert over.is_error and "rate-limit-exceeded" in text_of(over)


async def test_a_declared_oversized_body_is_413_before_it_is_read(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    """Only the headers are sent: the answer comes without the body ever arriving."""
    url = urlsplit(enforce_gw.mcp_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    framing = f"content-length: {DEFAULT_MAX_REQUEST_BYTES + 1}\r\n"
    writer.write(raw_post_head(enforce_gw.mcp_url, key_ring.token(user), framing))
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()
    assert status.split()[1] == b"413"


async def test_a_streamed_oversized_body_is_413(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    chunk = b" " * (1024 * 1024)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(DEFAULT_MAX_REQUEST_BYTES // len(chunk) + 1):
            yield chunk

    headers = {**MCP_HEADERS, "authorization": f"Bearer {key_ring.token(user)}"}
    async with httpx2.AsyncClient(timeout=20) as http:
        response = await http.post(enforce_gw.mcp_url, content=body(), headers=headers)
    assert response.status_code == 413
    assert enforce_gw.gateway is not None
    assert enforce_gw.gateway.metrics.oversized_requests.value() >= 1


async def test_a_1_mib_argument_under_the_limit_is_answered(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    async with connect(enforce_gw.mcp_url, key_ring.token(user), "2026-07-28") as client:
        result = await client.call_tool("notes.create", {"title": "{{" * 2**19, "content": "c"})
    assert result.is_error and "invalid arguments" in text_of(result)


@pytest.mark.parametrize(
    ("mode", "warned"),
    [(PolicyMode.LOG_ONLY, True), (PolicyMode.OFF, True), (PolicyMode.ENFORCE, False)],
)
async def test_start_logs_the_policy_mode_and_warns_once_unless_enforcing(
    tmp_path: Path, mode: PolicyMode, warned: bool
) -> None:
    settings = GatewaySettings(var_dir=tmp_path, policy_mode=mode)
    store = await open_store(settings.store_url)
    try:
        with capture_logs() as logs:
            async with open_gateway(settings, store) as gateway:
                gateway.app()
                gateway.app()
    finally:
        await store.close()
    modes = [e["mode"] for e in logs if e["event"] == "gateway.policy_mode"]
    assert modes == [mode.value]
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == (1 if warned else 0)
    if warned:
        assert "destructive tools run for outside clients" in warnings[0]["detail"]


def test_errors_name_their_cause() -> None:
    failed = ServerStartError("http://127.0.0.1:9", "did not start")
    assert isinstance(failed, GatewayError) and "http://127.0.0.1:9" in str(failed)
    bad = JwksDocumentError("https://issuer.test/jwks.json", "the document is not a JSON object")
    assert "https://issuer.test/jwks.json" in str(bad)


def test_a_server_that_cannot_start_raises_a_typed_error() -> None:
    @asynccontextmanager
    async def broken(_base_url: str) -> AsyncIterator[object]:
        raise OSError("no app today")
        yield  # pragma: no cover

    with pytest.raises(ServerStartError) as caught:
        ServerThread(broken).start()  # type: ignore[arg-type]
    assert caught.value.base_url.startswith("http://127.0.0.1:")


class CountingKeys:
    """A key source that can drop its keys and counts lookups."""

    def __init__(self, keys: StaticKeys) -> None:
        self.inner: StaticKeys | None = keys
        self.lookups = 0

    async def key(self, kid: str | None) -> Any:
        self.lookups += 1
        return None if self.inner is None else await self.inner.key(kid)


async def test_a_verified_token_is_trusted_for_the_ttl_never_past_exp(
    key_ring: KeyRing, user: str
) -> None:
    now = [time.time()]
    keys = CountingKeys(StaticKeys(key_ring.jwks()))
    verifier = JwtVerifier(
        keys, JwtRules(ISSUER, AUDIENCE, leeway_s=0), verified_ttl_s=60, clock=lambda: now[0]
    )
    token = key_ring.token(user, ttl_s=600)
    assert await verifier.verify_token(token) is not None
    keys.inner = None  # the provider drops the key
    now[0] += 59
    assert await verifier.verify_token(token) is not None
    assert keys.lookups == 1
    now[0] += 2
    assert await verifier.verify_token(token) is None  # re-verified: unknown kid
    short = key_ring.token(user, ttl_s=5)
    keys.inner = StaticKeys(key_ring.jwks())
    now[0] = time.time()
    assert await verifier.verify_token(short) is not None
    now[0] += 6
    before = keys.lookups
    await verifier.verify_token(short)
    assert keys.lookups == before + 1  # past exp: not taken from the cache
