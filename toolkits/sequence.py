"""The change sequence: one counter row whose lock orders writers, so cursors never skip."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from toolkits.schema import sync_counter


async def next_seq(conn: AsyncConnection) -> int:
    """Take the next change sequence number inside the caller's transaction."""
    result = await conn.execute(
        sa.update(sync_counter)
        .where(sync_counter.c.id == 1)
        .values(value=sync_counter.c.value + 1)
        .returning(sync_counter.c.value)
    )
    return int(result.scalar_one())
