"""The store's tables (schema version 3) and the registry of synced entities."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import sqlalchemy as sa

SCHEMA_VERSION = 3

SpaceType = Literal["personal", "brand", "club", "family", "team", "practice"]
SPACE_TYPES: tuple[SpaceType, ...] = ("personal", "brand", "club", "family", "team", "practice")
Role = Literal["owner", "admin", "member", "viewer"]
ROLES: tuple[Role, ...] = ("owner", "admin", "member", "viewer")
WRITER_ROLES: frozenset[str] = frozenset({"owner", "admin", "member"})
Visibility = Literal["private", "space"]

metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

sync_counter = sa.Table(
    "sync_counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("value", sa.BigInteger, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("credits", sa.Integer, nullable=False, server_default="0"),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.CheckConstraint("credits >= 0", name="ck_users_credits_nonnegative"),
)

spaces = sa.Table(
    "spaces",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("owner_id", sa.Text, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("space_id", sa.Text, sa.ForeignKey("spaces.id"), primary_key=True),
    sa.Column("user_id", sa.Text, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_memberships_user", "user_id"),
)

tool_calls = sa.Table(
    "tool_calls",
    metadata,
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("call_id", sa.Text, primary_key=True),
    sa.Column("tool", sa.Text, nullable=False),
    sa.Column("input_digest", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=True),
    sa.Column("held_credits", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("completed_at", sa.BigInteger, nullable=True),
)
"""The call ledger: one row per executed write call, its result recorded with its effect
(NULL while a call holding credits waits for its effect; sealed under the user's key)."""


def _synced(name: str, *columns: sa.Column[Any]) -> sa.Table:
    """A table of synced rows: tenancy columns, timestamps, per-field clock, change sequence."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("space_id", sa.Text, sa.ForeignKey("spaces.id"), nullable=False),
        sa.Column("author_id", sa.Text, nullable=False),
        sa.Column("visibility", sa.Text, nullable=False),
        *columns,
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("deleted_at", sa.BigInteger, nullable=True),
        sa.Column("clock", sa.Text, nullable=False, server_default="{}"),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Index(f"ix_{name}_space_seq", "space_id", "seq"),
    )


habits = _synced(
    "habits",
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("cadence", sa.Text, nullable=False, server_default="daily"),
    sa.Column("target", sa.Integer, nullable=False, server_default="1"),
    sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
)

todo = _synced(
    "todo",
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("due_date", sa.Text, nullable=True),
    sa.Column("priority", sa.Text, nullable=False, server_default="normal"),
    sa.Column("completed_at", sa.BigInteger, nullable=True),
)

notes = _synced(
    "notes",
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
)

journal = _synced(
    "journal",
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("mood", sa.Text, nullable=True),
    sa.Column("entry_date", sa.Text, nullable=False),
)

me_images = _synced(
    "me_images",
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=True),
    sa.Column("tags", sa.Text, nullable=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("mime", sa.Text, nullable=False),
    sa.Column("ai_reference", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("primary_slot", sa.Text, nullable=True),
    sa.Column("source", sa.Text, nullable=False, server_default="upload"),
)

SYSTEM_COLUMNS: frozenset[str] = frozenset(
    {"id", "space_id", "author_id", "created_at", "updated_at", "clock", "seq"}
)
"""Columns a change may never set: the store stamps them."""


@dataclass(frozen=True)
class Entity:
    """A synced entity: its table and the fields a change may set (LWW per field)."""

    name: str
    table: sa.Table

    @property
    def fields(self) -> frozenset[str]:
        """Settable fields: every column but the system ones (includes visibility, deleted_at)."""
        return frozenset(c.name for c in self.table.columns if c.name not in SYSTEM_COLUMNS)


ENTITIES: Mapping[str, Entity] = MappingProxyType(
    {t.name: Entity(t.name, t) for t in (habits, todo, notes, journal, me_images)}
)
