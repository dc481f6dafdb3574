"""Fixtures: a store on SQLite and on PostgreSQL (MANA_TEST_PG_URL), a key vault, the tools."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from tk_helpers import Caller, FakeClock

from planner.tools import ToolRegistry
from toolkits import default_registry
from toolkits.keyvault import LocalKeyVault
from toolkits.store import Store, open_store

PG_URL = os.environ.get("MANA_TEST_PG_URL")


def _drop_pg_schema(schema: str) -> None:
    async def drop() -> None:
        assert PG_URL is not None
        engine = create_async_engine(make_url(PG_URL).set(drivername="postgresql+asyncpg"))
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(drop())


def _store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'mana.db'}"
        return
    if PG_URL is None:
        pytest.skip("MANA_TEST_PG_URL is not set (run scripts/pg.sh)")
    if not PG_URL.strip():
        pytest.fail("MANA_TEST_PG_URL is set but empty: did scripts/pg.sh fail?")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"
    _drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL of its own per test, on each backend."""
    yield from _store_url(request.param, tmp_path)


@pytest.fixture
def one_store_url(tmp_path: Path) -> Iterator[str]:
    """One store for slow end-to-end tests: PostgreSQL when configured, else SQLite."""
    yield from _store_url("postgres" if PG_URL else "sqlite", tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    """The store clock."""
    return FakeClock()


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    """An opened, empty store."""
    s = await open_store(store_url, clock=clock)
    yield s
    await s.close()


@pytest.fixture
def vault(tmp_path: Path) -> LocalKeyVault:
    """A keystore file in the test's directory."""
    return LocalKeyVault(tmp_path / "var" / "keystore.json")


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    """Where media files go."""
    return tmp_path / "media"


@pytest.fixture
def registry(store: Store, vault: LocalKeyVault, media_dir: Path) -> ToolRegistry:
    """Every tool, without an image client."""
    return default_registry(store, vault, media_dir=media_dir)


@pytest.fixture
def call(registry: ToolRegistry) -> Caller:
    """A tool caller over the default registry."""
    return Caller(registry)
