"""The store: open it (SQLite by default, PostgreSQL by URL), then work through scoped sessions."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from planner import ToolContext
from toolkits import tenancy
from toolkits.credits import balance, grant
from toolkits.errors import NotAMemberError, StoreError
from toolkits.migrations import migrate
from toolkits.schema import users
from toolkits.scope import Clock, ScopedSession
from toolkits.sync import Change, PullResult, PushResult
from toolkits.tenancy import Membership, Space

DEFAULT_DB_PATH = Path("var/mana.db")
DATABASE_URL_ENV = "MANA_DATABASE_URL"
VAR_DIR_ENV = "MANA_VAR_DIR"
"""The variable naming the app database (and the DBOS system database) for every package."""
SCHEMA_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def now_ms() -> int:
    """Wall-clock time in milliseconds: the store's default clock."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class User:
    """A user as the store knows them."""

    id: str
    credits: int
    is_admin: bool


class Store:
    """Async access to one database: tenancy, credits, sync, and scoped sessions for tools."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock = now_ms) -> None:
        self.engine = engine
        self.clock = clock

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Release the engine's connections."""
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction: committed on success, rolled back on error."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def scoped(self, ctx: ToolContext) -> AsyncIterator[ScopedSession]:
        """A transaction scoped to ctx.space_id; refuses users who are not members."""
        space_id = tenancy.resolve_space_id(ctx.user_id, ctx.space_id)
        async with self.transaction() as conn:
            member = await tenancy.membership(conn, ctx.user_id, space_id)
            if member is None and space_id == tenancy.personal_space_id(ctx.user_id):
                await tenancy.ensure_personal_space(conn, ctx.user_id, self.clock())
                member = await tenancy.membership(conn, ctx.user_id, space_id)
            if member is None:
                raise NotAMemberError(ctx.user_id, space_id)
            yield ScopedSession(conn, ctx.user_id, member, self.clock)

    async def schema_version(self) -> int:
        """The schema version recorded in the store."""
        async with self.transaction() as conn:
            value = await conn.scalar(
                sa.text("SELECT value FROM meta WHERE key = 'schema_version'")
            )
        return int(value)

    async def personal_space(self, user_id: str) -> Space:
        """The user's personal space (created on first use)."""
        async with self.transaction() as conn:
            return await tenancy.ensure_personal_space(conn, user_id, self.clock())

    async def create_space(
        self, owner_id: str, space_type: str, name: str, space_id: str | None = None
    ) -> Space:
        """Create a shared space; the owner becomes its first member."""
        async with self.transaction() as conn:
            return await tenancy.create_space(
                conn, owner_id, space_type, name, self.clock(), space_id
            )

    async def add_member(self, space_id: str, user_id: str, role: str = "member") -> Membership:
        """Add a user to a space (or change their role)."""
        async with self.transaction() as conn:
            return await tenancy.add_member(conn, space_id, user_id, role, self.clock())

    async def spaces_of(self, user_id: str) -> list[Membership]:
        """The user's spaces, their personal space included (created on first use)."""
        async with self.transaction() as conn:
            await tenancy.ensure_personal_space(conn, user_id, self.clock())
            return await tenancy.spaces_of(conn, user_id)

    async def list_users(self) -> list[User]:
        """Every user, by id (an admin view)."""
        async with self.transaction() as conn:
            rows = await conn.execute(sa.select(users).order_by(users.c.id))
            return [User(r.id, r.credits, r.is_admin) for r in rows]

    async def credits(self, user_id: str) -> int:
        """The user's credit balance (0 for an unknown user)."""
        async with self.transaction() as conn:
            return await balance(conn, user_id)

    async def grant_credits(self, user_id: str, amount: int) -> int:
        """Add credits to the user's balance; returns the new balance."""
        async with self.transaction() as conn:
            await tenancy.ensure_user(conn, user_id, self.clock())
            return await grant(conn, user_id, amount)

    async def push(self, ctx: ToolContext, changes: Sequence[Change]) -> PushResult:
        """Merge client changes into ctx's space, field by field, last writer wins; atomic."""
        async with self.scoped(ctx) as s:
            return PushResult(tuple([await s.apply(c) for c in changes]))

    async def pull(self, ctx: ToolContext, since: int = 0, limit: int = 500) -> PullResult:
        """What changed in ctx's space after cursor `since` (tombstones included)."""
        async with self.scoped(ctx) as s:
            return await s.changes_since(since, limit)


async def open_store(
    url: str | None = None, *, schema: str | None = None, clock: Clock = now_ms
) -> Store:
    """Open (creating or migrating) the store at `url`; None means SQLite at ./var/mana.db.

    PostgreSQL URLs (postgresql://, postgres://, postgresql+asyncpg://) use asyncpg; a
    `schema` argument or `?schema=` query parameter keeps the store in that schema.
    """
    sa_url, schema = _normalize_url(url, schema)
    engine = _create_engine(sa_url, schema)
    try:
        if schema is not None:
            async with engine.begin() as conn:
                await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        async with engine.begin() as conn:
            await migrate(conn, clock())
    except BaseException:
        await engine.dispose()
        raise
    return Store(engine, clock=clock)


def make_engine(url: str | None = None, *, schema: str | None = None) -> AsyncEngine:
    """An engine for the store at `url` without creating or migrating anything (for tooling)."""
    sa_url, schema = _normalize_url(url, schema)
    return _create_engine(sa_url, schema)


def _normalize_url(url: str | None, schema: str | None) -> tuple[URL, str | None]:
    """Map user-facing URLs to async drivers and pull out the schema option."""
    if url is None:
        url = f"sqlite:///{DEFAULT_DB_PATH}"
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"cannot parse store URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if schema is not None or "schema" in parsed.query:
            raise StoreError("the schema option is for PostgreSQL stores only")
        parsed = parsed.set(drivername="sqlite+aiosqlite")
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return parsed, None
    if backend in ("postgresql", "postgres"):
        query_schema = parsed.query.get("schema")
        if isinstance(query_schema, tuple):
            query_schema = query_schema[-1]
        schema = schema or query_schema
        parsed = parsed.difference_update_query(["schema"]).set(drivername="postgresql+asyncpg")
        if schema is not None and not SCHEMA_NAME_RE.match(schema):
            raise StoreError(f"schema name {schema!r} must match {SCHEMA_NAME_RE.pattern}")
        return parsed, schema
    raise StoreError(
        f"unsupported store URL scheme {parsed.drivername!r}; use sqlite or postgresql"
    )


def _create_engine(url: URL, schema: str | None) -> AsyncEngine:
    """An engine with real transactions on SQLite and the search path set on PostgreSQL."""
    if url.get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {}
        if schema is not None:
            connect_args["server_settings"] = {"search_path": schema}
        return create_async_engine(url, connect_args=connect_args, pool_pre_ping=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Take transaction control from the sqlite3 driver; enable WAL and foreign keys."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    """Begin every transaction as IMMEDIATE: one writer at a time, no lock upgrades."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")
