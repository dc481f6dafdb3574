"""Users, spaces and memberships; a personal space per user, created on first use."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from toolkits.errors import (
    InvalidFieldError,
    PermissionDeniedError,
    SpaceExistsError,
    UnknownSpaceError,
)
from toolkits.schema import ROLES, SPACE_TYPES, memberships, spaces, users

PERSONAL_ALIAS = "personal"
"""A ToolContext may name the caller's personal space by this alias instead of its id."""


@dataclass(frozen=True)
class Space:
    """A tenant: personal, brand, club, family, team or practice."""

    id: str
    type: str
    name: str
    owner_id: str


@dataclass(frozen=True)
class Membership:
    """A user's role in a space."""

    space: Space
    user_id: str
    role: str


def personal_space_id(user_id: str) -> str:
    """The id of a user's personal space (one per user, so derived from the user id)."""
    return f"personal:{user_id}"


def resolve_space_id(user_id: str, space_id: str) -> str:
    """The space id a context names: the personal alias becomes the user's personal space."""
    return personal_space_id(user_id) if space_id == PERSONAL_ALIAS else space_id


async def insert_ignore(conn: AsyncConnection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert unless the primary key exists; True when a row was inserted."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    result = await conn.execute(dialect_insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


async def ensure_user(conn: AsyncConnection, user_id: str, now: int) -> None:
    """Create the user row if absent."""
    if not user_id:
        raise InvalidFieldError("user_id", "a user id is required")
    await insert_ignore(conn, users, {"id": user_id, "created_at": now})


async def ensure_personal_space(conn: AsyncConnection, user_id: str, now: int) -> Space:
    """The user's personal space, created with an owner membership on first use."""
    await ensure_user(conn, user_id, now)
    space = Space(personal_space_id(user_id), "personal", "Personal", user_id)
    await insert_ignore(
        conn,
        spaces,
        {
            "id": space.id,
            "type": "personal",
            "name": space.name,
            "owner_id": user_id,
            "created_at": now,
        },
    )
    await insert_ignore(
        conn,
        memberships,
        {"space_id": space.id, "user_id": user_id, "role": "owner", "created_at": now},
    )
    return space


async def create_space(
    conn: AsyncConnection,
    owner_id: str,
    space_type: str,
    name: str,
    now: int,
    space_id: str | None = None,
) -> Space:
    """Create a shared space owned by `owner_id` (personal spaces are created on first use)."""
    if space_type not in SPACE_TYPES:
        raise InvalidFieldError(
            "type", f"unknown space type {space_type!r}; one of {', '.join(SPACE_TYPES)}"
        )
    if space_type == "personal":
        raise InvalidFieldError("type", "personal spaces are created automatically, one per user")
    await ensure_user(conn, owner_id, now)
    space = Space(space_id or f"{space_type}:{uuid.uuid4().hex[:12]}", space_type, name, owner_id)
    inserted = await insert_ignore(
        conn,
        spaces,
        {"id": space.id, "type": space_type, "name": name, "owner_id": owner_id, "created_at": now},
    )
    if not inserted:
        raise SpaceExistsError(space.id)
    await add_member(conn, space.id, owner_id, "owner", now)
    return space


async def add_member(
    conn: AsyncConnection, space_id: str, user_id: str, role: str, now: int
) -> Membership:
    """Add the user to the space with `role`, or change the role of an existing member."""
    if role not in ROLES:
        raise InvalidFieldError("role", f"unknown role {role!r}; one of {', '.join(ROLES)}")
    space = await get_space(conn, space_id)
    if space is None:
        raise UnknownSpaceError(space_id)
    if space.type == "personal" and user_id != space.owner_id:
        raise PermissionDeniedError(
            f"space {space_id!r} is personal: it has exactly one member, its owner"
        )
    await ensure_user(conn, user_id, now)
    values = {"space_id": space_id, "user_id": user_id, "role": role, "created_at": now}
    if not await insert_ignore(conn, memberships, values):
        await conn.execute(
            sa.update(memberships)
            .where(memberships.c.space_id == space_id, memberships.c.user_id == user_id)
            .values(role=role)
        )
    return Membership(space, user_id, role)


async def get_space(conn: AsyncConnection, space_id: str) -> Space | None:
    """The space with this id, or None."""
    row = (await conn.execute(sa.select(spaces).where(spaces.c.id == space_id))).first()
    return None if row is None else Space(row.id, row.type, row.name, row.owner_id)


async def membership(conn: AsyncConnection, user_id: str, space_id: str) -> Membership | None:
    """The user's membership of the space, or None when they are not a member."""
    for m in await _memberships(
        conn, memberships.c.user_id == user_id, memberships.c.space_id == space_id
    ):
        return m
    return None


async def spaces_of(conn: AsyncConnection, user_id: str) -> list[Membership]:
    """Every space the user belongs to, personal first, then by type and name."""
    found = await _memberships(conn, memberships.c.user_id == user_id)
    return sorted(found, key=lambda m: (m.space.type != "personal", m.space.type, m.space.name))


async def _memberships(conn: AsyncConnection, *where: sa.ColumnElement[bool]) -> list[Membership]:
    query = (
        sa.select(spaces, memberships.c.user_id, memberships.c.role)
        .join(memberships, memberships.c.space_id == spaces.c.id)
        .where(*where)
    )
    return [
        Membership(Space(r.id, r.type, r.name, r.owner_id), r.user_id, r.role)
        for r in await conn.execute(query)
    ]
