"""Credit balances inside a caller's transaction: read, grant, debit (all or nothing)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from toolkits.errors import InsufficientCreditsError, InvalidFieldError
from toolkits.schema import users


async def balance(conn: AsyncConnection, user_id: str) -> int:
    """The user's credit balance (0 for an unknown user)."""
    value = await conn.scalar(sa.select(users.c.credits).where(users.c.id == user_id))
    return int(value or 0)


async def grant(conn: AsyncConnection, user_id: str, amount: int) -> int:
    """Add `amount` credits to an existing user's balance; returns the new balance."""
    if amount < 0:
        raise InvalidFieldError("amount", "a grant must not be negative")
    result = await conn.execute(
        sa.update(users)
        .where(users.c.id == user_id)
        .values(credits=users.c.credits + amount)
        .returning(users.c.credits)
    )
    return int(result.scalar_one())


async def debit(conn: AsyncConnection, user_id: str, amount: int) -> int:
    """Take `amount` credits, or raise InsufficientCreditsError taking none; the new balance."""
    result = await conn.execute(
        sa.update(users)
        .where(users.c.id == user_id, users.c.credits >= amount)
        .values(credits=users.c.credits - amount)
        .returning(users.c.credits)
    )
    left = result.scalar_one_or_none()
    if left is None:
        raise InsufficientCreditsError(amount, await balance(conn, user_id))
    return int(left)
