"""Schema versions: create a fresh store, or migrate an older one in a single transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from toolkits import schema, tenancy
from toolkits.errors import SchemaVersionError
from toolkits.sequence import next_seq
from toolkits.sync import encode_clock

Step = Callable[[AsyncConnection, int], Awaitable[None]]


async def migrate(conn: AsyncConnection, now: int) -> int:
    """Bring the store in `conn`'s transaction to SCHEMA_VERSION; returns the old version."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext('mana-store:' || current_schema()))")
        )
    version = await current_version(conn)
    if version == 0:
        await conn.run_sync(schema.metadata.create_all)
        await conn.execute(sa.insert(schema.sync_counter).values(id=1, value=0))
        await conn.execute(
            sa.insert(schema.meta).values(key="schema_version", value=str(schema.SCHEMA_VERSION))
        )
        return 0
    if version > schema.SCHEMA_VERSION:
        raise SchemaVersionError(
            f"store schema version {version} is newer than this code ({schema.SCHEMA_VERSION})"
        )
    for step_from in range(version, schema.SCHEMA_VERSION):
        step = STEPS.get(step_from)
        if step is None:
            raise SchemaVersionError(f"no migration from schema version {step_from}")
        await step(conn, now)
    if version != schema.SCHEMA_VERSION:
        await conn.execute(
            sa.update(schema.meta)
            .where(schema.meta.c.key == "schema_version")
            .values(value=str(schema.SCHEMA_VERSION))
        )
    return version


async def current_version(conn: AsyncConnection) -> int:
    """The recorded schema version, 0 for an empty database."""
    has_meta = await conn.run_sync(lambda c: sa.inspect(c).has_table("meta"))
    if not has_meta:
        return 0
    value = await conn.scalar(
        sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    )
    if value is None:
        raise SchemaVersionError("the store has a meta table but no schema_version")
    return int(value)


async def _v1_to_v2(conn: AsyncConnection, now: int) -> None:
    """Move me-images from user level (a user_id column) into each user's personal space."""
    rows = (await conn.execute(sa.text("SELECT * FROM me_images ORDER BY created_at, id"))).all()
    ddl = sa.MetaData()
    schema.users.to_metadata(ddl)
    schema.spaces.to_metadata(ddl)
    staged = schema.me_images.to_metadata(ddl, name="me_images_v2")
    await conn.run_sync(lambda c: staged.create(c))
    for r in rows:
        space = await tenancy.ensure_personal_space(conn, r.user_id, now)
        fields = {
            "visibility": "private",
            "kind": r.kind,
            "label": r.label,
            "tags": r.tags,
            "path": r.path,
            "mime": r.mime,
            "ai_reference": bool(r.ai_reference),
            "primary_slot": r.primary_slot,
            "source": "upload",
            "deleted_at": r.deleted_at,
        }
        stamp = (int(r.updated_at), str(r.user_id))
        await conn.execute(
            sa.insert(staged).values(
                **fields,
                id=r.id,
                space_id=space.id,
                author_id=r.user_id,
                created_at=r.created_at,
                updated_at=r.updated_at,
                clock=encode_clock(dict.fromkeys(fields, stamp)),
                seq=await next_seq(conn),
            )
        )
    await conn.execute(sa.text("DROP TABLE me_images"))
    await conn.execute(sa.text("ALTER TABLE me_images_v2 RENAME TO me_images"))


async def _v2_to_v3(conn: AsyncConnection, _now: int) -> None:
    """Add the call ledger (effectively-once write tools); nothing else changes."""
    await conn.run_sync(lambda c: schema.tool_calls.create(c, checkfirst=True))


STEPS: Mapping[int, Step] = MappingProxyType({1: _v1_to_v2, 2: _v2_to_v3})
"""Migration steps by the version they start from."""
