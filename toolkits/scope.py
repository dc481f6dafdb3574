"""The scoped query helper: every read and write of synced rows is pinned to one space."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from toolkits.crypto import ENCRYPTED_FIELDS, is_ciphertext
from toolkits.errors import (
    InvalidChangeError,
    NotFoundError,
    PermissionDeniedError,
    UnknownEntityError,
)
from toolkits.schema import ENTITIES, WRITER_ROLES, Entity, Visibility
from toolkits.sequence import next_seq
from toolkits.sync import (
    Change,
    ChangeOutcome,
    FieldChange,
    PulledRow,
    PullResult,
    Stamp,
    decode_clock,
    encode_clock,
    merge,
)
from toolkits.tenancy import Membership

Clock = Callable[[], int]
Row = dict[str, Any]

VISIBILITIES: frozenset[str] = frozenset({"private", "space"})


class ScopedSession:
    """One transaction, one user, one space: rows of other spaces do not exist here."""

    def __init__(
        self, conn: AsyncConnection, user_id: str, member: Membership, clock: Clock
    ) -> None:
        self._conn = conn
        self._clock = clock
        self.user_id = user_id
        self.membership = member

    @property
    def space_id(self) -> str:
        """The active space."""
        return self.membership.space.id

    @property
    def space_type(self) -> str:
        """The active space's type (personal, brand, ...)."""
        return self.membership.space.type

    @property
    def default_visibility(self) -> Visibility:
        """Private in a personal space, shared with the members elsewhere."""
        return "private" if self.space_type == "personal" else "space"

    @property
    def connection(self) -> AsyncConnection:
        """The transaction's connection, for store tables outside the space scope (the ledger)."""
        return self._conn

    def now(self) -> int:
        """The store clock, in ms."""
        return self._clock()

    def table(self, entity: str) -> sa.Table:
        """The table of a synced entity (for building `where` clauses)."""
        return _entity(entity).table

    def scope(self, table: sa.Table) -> sa.ColumnElement[bool]:
        """The filter every query carries: this space, and rows this user may see."""
        return sa.and_(
            table.c.space_id == self.space_id,
            sa.or_(table.c.visibility == "space", table.c.author_id == self.user_id),
        )

    async def select(
        self,
        entity: str,
        *where: sa.ColumnElement[bool],
        include_deleted: bool = False,
        order_by: Sequence[sa.ColumnElement[Any]] = (),
        limit: int | None = None,
    ) -> list[Row]:
        """Visible rows of `entity` in this space matching `where`."""
        table = _entity(entity).table
        query = sa.select(table).where(self.scope(table), *where)
        if not include_deleted:
            query = query.where(table.c.deleted_at.is_(None))
        query = query.order_by(*order_by, table.c.created_at, table.c.id)
        if limit is not None:
            query = query.limit(limit)
        return [_row(r._mapping) for r in await self._conn.execute(query)]

    async def get(self, entity: str, row_id: str, *, include_deleted: bool = False) -> Row | None:
        """The visible row with this id in this space, or None."""
        table = _entity(entity).table
        rows = await self.select(entity, table.c.id == row_id, include_deleted=include_deleted)
        return rows[0] if rows else None

    async def require(self, entity: str, row_id: str, what: str | None = None) -> Row:
        """Like get, but a missing row is a NotFoundError naming `what`."""
        row = await self.get(entity, row_id)
        if row is None:
            raise NotFoundError(what or entity, row_id)
        return row

    async def create(
        self,
        entity: str,
        values: Mapping[str, Any],
        *,
        row_id: str | None = None,
        visibility: Visibility | None = None,
    ) -> Row:
        """Insert a row authored by this user, every field stamped now."""
        self.require_writer()
        now = self.now()
        fields = {"visibility": visibility or self.default_visibility, **values}
        changes = {k: FieldChange(v, now) for k, v in fields.items()}
        return await self._insert(
            _entity(entity), row_id or uuid.uuid4().hex, changes, self.user_id, now
        )

    async def update(self, entity: str, row_id: str, values: Mapping[str, Any]) -> Row:
        """Write fields of a visible row; the server's stamp follows every stored one."""
        self.require_writer()
        ent = _entity(entity)
        _check_fields(ent, values, encrypted_must_be_sealed=False)
        row = await self.require(entity, row_id)
        clock: dict[str, Stamp] = row["clock"]
        ts = max([self.now(), *(clock[f][0] + 1 for f in values if f in clock)])
        await self._merge_into(
            ent, row, {k: FieldChange(v, ts) for k, v in values.items()}, self.user_id
        )
        updated = await self.get(entity, row_id, include_deleted=True)
        assert updated is not None
        return updated

    async def soft_delete(self, entity: str, row_id: str) -> Row:
        """Mark a visible row deleted (a synced tombstone; the row stays)."""
        row = await self.require(entity, row_id)
        await self.update(entity, row_id, {"deleted_at": self.now()})
        return row

    async def apply(self, change: Change) -> ChangeOutcome:
        """Merge one pushed change field by field (LWW); unknown rows are created."""
        self.require_writer()
        ent = _entity(change.entity)
        _check_fields(
            ent, {k: f.value for k, f in change.fields.items()}, encrypted_must_be_sealed=True
        )
        table = ent.table
        found = (
            await self._conn.execute(
                sa.select(table.c.space_id, table.c.author_id, table.c.visibility).where(
                    table.c.id == change.row_id
                )
            )
        ).first()
        if found is None:
            await self._insert(ent, change.row_id, change.fields, change.actor, self.now())
            return ChangeOutcome(ent.name, change.row_id, True, tuple(sorted(change.fields)), ())
        row = await self.get(ent.name, change.row_id, include_deleted=True)
        if row is None:
            raise InvalidChangeError(
                f"{ent.name} {change.row_id!r} is not a row of this space you can see"
            )
        result = await self._merge_into(ent, row, change.fields, change.actor)
        return ChangeOutcome(ent.name, change.row_id, False, result[0], result[1])

    async def changes_since(self, since: int, limit: int) -> PullResult:
        """Visible rows of this space changed after cursor `since`, tombstones included."""
        found: list[PulledRow] = []
        for ent in ENTITIES.values():
            table = ent.table
            query = (
                sa.select(table)
                .where(self.scope(table), table.c.seq > since)
                .order_by(table.c.seq)
                .limit(limit + 1)
            )
            for r in await self._conn.execute(query):
                row = _row(r._mapping)
                values = {k: row[k] for k in sorted(ent.fields)}
                found.append(
                    PulledRow(
                        ent.name, row["id"], row["author_id"], row["seq"], values, row["clock"]
                    )
                )
        found.sort(key=lambda p: p.seq)
        page = found[:limit]
        cursor = page[-1].seq if page else since
        return PullResult(tuple(page), cursor, has_more=len(found) > limit)

    def require_writer(self) -> None:
        """Raise unless this member's role may write."""
        if self.membership.role not in WRITER_ROLES:
            raise PermissionDeniedError(
                f"role {self.membership.role!r} is read-only in space {self.space_id!r}"
            )

    async def _insert(
        self, ent: Entity, row_id: str, fields: Mapping[str, FieldChange], actor: str, now: int
    ) -> Row:
        values = {k: f.value for k, f in fields.items()}
        missing = [
            c.name
            for c in ent.table.columns
            if c.name in ent.fields - {"visibility"}
            and not c.nullable
            and c.server_default is None
            and values.get(c.name) is None
        ]
        if missing:
            raise InvalidChangeError(f"a new {ent.name} row needs {', '.join(sorted(missing))}")
        _check_fields(ent, values, encrypted_must_be_sealed=False)
        clock = {k: (f.ts, actor) for k, f in fields.items()}
        record = {
            **values,
            "id": row_id,
            "space_id": self.space_id,
            "author_id": self.user_id,
            "visibility": values.get("visibility") or self.default_visibility,
            "created_at": now,
            "updated_at": now,
            "clock": encode_clock(clock),
            "seq": await next_seq(self._conn),
        }
        result = await self._conn.execute(
            sa.insert(ent.table).values(**record).returning(*ent.table.c)
        )
        return _row(result.one()._mapping)

    async def _merge_into(
        self, ent: Entity, row: Row, fields: Mapping[str, FieldChange], actor: str
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        merged = merge(row["clock"], fields, actor)
        if merged.accepted:
            table = ent.table
            await self._conn.execute(
                sa.update(table)
                .where(table.c.id == row["id"], table.c.space_id == self.space_id)
                .values(
                    **merged.values,
                    clock=encode_clock(merged.clock),
                    updated_at=self.now(),
                    seq=await next_seq(self._conn),
                )
            )
        return merged.accepted, merged.rejected


def _entity(name: str) -> Entity:
    """The synced entity called `name`, or UnknownEntityError."""
    try:
        return ENTITIES[name]
    except KeyError:
        raise UnknownEntityError(name, tuple(ENTITIES)) from None


def _row(mapping: sa.RowMapping) -> Row:
    row = dict(mapping)
    row["clock"] = decode_clock(row.get("clock"))
    return row


def _check_fields(
    ent: Entity, values: Mapping[str, Any], *, encrypted_must_be_sealed: bool
) -> None:
    """Reject unknown fields, wrongly typed values and (from clients) plaintext secrets."""
    unknown = sorted(set(values) - ent.fields)
    if unknown:
        raise InvalidChangeError(f"{ent.name} has no settable field {', '.join(unknown)}")
    sealed = ENCRYPTED_FIELDS.get(ent.name, {})
    for name, value in values.items():
        column = ent.table.c[name]
        if value is None:
            if not column.nullable:
                raise InvalidChangeError(f"{ent.name}.{name} cannot be null")
            continue
        expected = column.type.python_type
        if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
            raise InvalidChangeError(
                f"{ent.name}.{name} must be {expected.__name__}, got {type(value).__name__}"
            )
        if name == "visibility" and value not in VISIBILITIES:
            raise InvalidChangeError(f"{ent.name}.visibility must be 'private' or 'space'")
        if encrypted_must_be_sealed and name in sealed and not is_ciphertext(value):
            raise InvalidChangeError(f"{ent.name}.{name} must be sent encrypted (enc:1:...)")
