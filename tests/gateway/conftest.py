"""Fixtures: a JWKS server, gateways (enforce and log-only) trusting it, a store on the side."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from starlette.types import ASGIApp

from gateway import GatewaySettings, GatewayThread, ServerThread
from planner.policy import PolicyMode
from tests.gateway.gw_helpers import AUDIENCE, ISSUER, KeyRing, new_key
from toolkits.keyvault import LocalKeyVault
from toolkits.store import Store, open_store


@pytest.fixture(scope="session")
def key_ring() -> KeyRing:
    """The test identity provider: ES256, RS256 and EdDSA keys."""
    return KeyRing([new_key("ES256"), new_key("RS256"), new_key("EdDSA")])


@pytest.fixture(scope="session")
def jwks_server(key_ring: KeyRing) -> Iterator[ServerThread]:
    """The key ring's JWKS on loopback."""

    @asynccontextmanager
    async def build(_base_url: str) -> AsyncIterator[ASGIApp]:
        yield key_ring.app()

    with ServerThread(build) as server:
        yield server


def _gateway(tmp: Path, jwks: ServerThread, mode: PolicyMode) -> GatewaySettings:
    return GatewaySettings(
        var_dir=tmp,
        jwks_url=f"{jwks.base_url}/jwks.json",
        issuer=ISSUER,
        audience=AUDIENCE,
        policy_mode=mode,
        jwks_refetch_cooldown_s=0.0,
        leeway_s=0.0,
    )


@pytest.fixture(scope="session")
def enforce_gw(
    tmp_path_factory: pytest.TempPathFactory, jwks_server: ServerThread
) -> Iterator[GatewayThread]:
    """A gateway in enforce mode trusting the test JWKS."""
    tmp = tmp_path_factory.mktemp("gw-enforce")
    with GatewayThread(_gateway(tmp, jwks_server, PolicyMode.ENFORCE)) as gw:
        yield gw


@pytest.fixture(scope="session")
def logonly_gw(
    tmp_path_factory: pytest.TempPathFactory, jwks_server: ServerThread
) -> Iterator[GatewayThread]:
    """A gateway in log-only mode trusting the test JWKS."""
    tmp = tmp_path_factory.mktemp("gw-logonly")
    with GatewayThread(_gateway(tmp, jwks_server, PolicyMode.LOG_ONLY)) as gw:
        yield gw


@pytest.fixture
def user() -> str:
    """A fresh user id per test (rate limits and data never leak between tests)."""
    return f"user-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def other_user() -> str:
    """A second fresh user."""
    return f"other-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["legacy", "2026-07-28"])
def mode(request: pytest.FixtureRequest) -> str:
    """The client protocol: the legacy session handshake or the current protocol."""
    return str(request.param)


@asynccontextmanager
async def side_store(gw: GatewayThread) -> AsyncIterator[Store]:
    """The gateway's database, opened from the test's event loop."""
    store = await open_store(gw.settings.store_url)
    try:
        yield store
    finally:
        await store.close()


def side_vault(gw: GatewayThread) -> LocalKeyVault:
    """The gateway's keystore file, opened from the test."""
    return LocalKeyVault(gw.settings.var_dir / "keystore.json")
