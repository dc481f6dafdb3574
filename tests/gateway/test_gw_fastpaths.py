"""The gateway's per-request fast paths answer exactly as the slow ones did."""

from __future__ import annotations

import asyncio
import math
import re
import time
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.requests import HTTPConnection

from gateway import GatewayThread
from gateway.access import BearerBackend
from gateway.metrics import Histogram
from gateway.settings import DEFAULT_MAX_REQUEST_BYTES
from tests.gateway.gw_helpers import KeyRing, raw_post_head


@pytest.mark.property
@given(
    bounds=st.lists(st.floats(0.001, 100), min_size=1, max_size=8, unique=True).map(sorted),
    values=st.lists(st.floats(0, 200), max_size=40),
)
def test_histogram_buckets_count_every_value_at_or_under_each_bound(
    bounds: list[float], values: list[float]
) -> None:
    observed = [*values, *bounds]  # a value exactly on a bound belongs to that bound's bucket
    hist = Histogram("h", "H.", ("tool",), buckets=tuple(bounds))
    for value in observed:
        hist.observe(value, "t")
    rendered = {
        float(m["le"]): int(m["n"])
        for line in hist.render()
        if (m := re.fullmatch(r'h_bucket\{tool="t",le="(?P<le>[^"]+)"\} (?P<n>\d+)', line))
    }
    expected = {bound: sum(1 for v in observed if v <= bound) for bound in bounds}
    assert rendered == {**expected, math.inf: len(observed)}


class _Verifier:
    def __init__(self, access: AccessToken | None) -> None:
        self.access = access
        self.seen: list[str] = []

    async def verify_token(self, token: str) -> AccessToken | None:
        self.seen.append(token)
        return self.access


def _conn(headers: list[tuple[bytes, bytes]]) -> HTTPConnection:
    return HTTPConnection({"type": "http", "headers": headers})


def _token(expires_at: int | None) -> AccessToken:
    return AccessToken(
        token="t", client_id="c", scopes=["a", "b"], expires_at=expires_at, subject="u"
    )


async def test_the_bearer_backend_reads_the_token_like_the_sdk_does() -> None:
    access = _token(int(time.time()) + 60)
    verifier = _Verifier(access)
    backend = BearerBackend(verifier)
    for prefix in (b"Bearer ", b"bearer ", b"BEARER "):
        result = await backend.authenticate(_conn([(b"authorization", prefix + b"tok")]))
        assert result is not None
        credentials, user = result
        assert credentials.scopes == ["a", "b"]
        assert isinstance(user, AuthenticatedUser) and user.access_token is access
    assert verifier.seen == ["tok", "tok", "tok"]
    for refused in ([], [(b"authorization", b"Basic dTpw")], [(b"authorization", b"Bearer")]):
        assert await backend.authenticate(_conn(refused)) is None
    assert verifier.seen == ["tok", "tok", "tok"]


async def test_the_bearer_backend_refuses_unverified_and_expired_tokens() -> None:
    header = [(b"authorization", b"Bearer tok")]
    assert await BearerBackend(_Verifier(None)).authenticate(_conn(header)) is None
    expired = _Verifier(_token(int(time.time()) - 5))
    assert await BearerBackend(expired).authenticate(_conn(header)) is None
    assert await BearerBackend(_Verifier(_token(None))).authenticate(_conn(header)) is not None


async def test_a_chunked_body_under_a_small_content_length_is_still_counted(
    enforce_gw: GatewayThread, key_ring: KeyRing, user: str
) -> None:
    """Transfer-Encoding overrides Content-Length: the declared 10 bytes must not let 4 MiB in
    (the gateway's own guard refuses it, as its metric shows, not only the SDK's behind it)."""
    assert enforce_gw.gateway is not None
    refused = enforce_gw.gateway.metrics.oversized_requests.value()
    url = urlsplit(enforce_gw.mcp_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    framing = "content-length: 10\r\ntransfer-encoding: chunked\r\n"
    chunk = b" " * (1024 * 1024)
    writer.write(raw_post_head(enforce_gw.mcp_url, key_ring.token(user), framing))
    try:
        for _ in range(DEFAULT_MAX_REQUEST_BYTES // len(chunk) + 1):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    except ConnectionError:
        pass  # the server may answer and close before the whole body is sent
    status = await asyncio.wait_for(reader.readline(), timeout=20)
    writer.close()
    assert status.split()[1] == b"413"
    assert enforce_gw.gateway.metrics.oversized_requests.value() == refused + 1
