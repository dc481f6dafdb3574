"""The persona store: persona users, sessions, their tool calls and feedback, pause switches.

SQLAlchemy Core in the app's database, like the run store: SQLite by default, PostgreSQL with
the same code.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from missions import run_columns

Outcome = Literal["ok", "error", "denied", "flagged"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "error", "denied", "flagged")
ALL_PERSONAS = "*"
"""The pause-switch key that stops every persona."""
MESSAGE_CHARS = 500

metadata = sa.MetaData()

persona_users_table = sa.Table(
    "persona_users",
    metadata,
    sa.Column("user_id", sa.String(200), primary_key=True),
    sa.Column("persona_id", sa.String(120), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False, server_default="persona"),
    sa.Column("created_at", sa.Float, nullable=False),
)

sessions_table = sa.Table(
    "persona_sessions",
    metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("persona_id", sa.String(120), nullable=False, index=True),
    sa.Column("user_id", sa.String(200), nullable=False),
    sa.Column("space_id", sa.String(200), nullable=False),
    sa.Column("trigger", sa.String(20), nullable=False, server_default="manual"),
    sa.Column("started_at", sa.Float, nullable=False, index=True),
    sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("denials", sa.Integer, nullable=False, server_default="0"),
    sa.Column("flagged", sa.Integer, nullable=False, server_default="0"),
    *run_columns(),
)

tool_calls_table = sa.Table(
    "persona_tool_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(80), nullable=False, index=True),
    sa.Column("persona_id", sa.String(120), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("call_id", sa.String(120), nullable=False),
    sa.Column("tool", sa.String(120), nullable=False),
    sa.Column("module", sa.String(60), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False, server_default="0"),
    sa.Column("message", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
)

feedback_table = sa.Table(
    "persona_feedback",
    metadata,
    sa.Column("session_id", sa.String(80), primary_key=True),
    sa.Column("persona_id", sa.String(120), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("ratings", sa.Text, nullable=False, server_default="{}"),
    sa.Column("friction", sa.Text, nullable=False, server_default="[]"),
    sa.Column("bugs", sa.Text, nullable=False, server_default="[]"),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("raw", sa.Text, nullable=False, server_default="[]"),
    sa.Column("error", sa.Text),
)

switches_table = sa.Table(
    "persona_switches",
    metadata,
    sa.Column("key", sa.String(120), primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class SessionRecord:
    """One persona session as the store keeps it."""

    id: str
    persona_id: str
    user_id: str
    space_id: str
    trigger: str
    started_at: float
    finished_at: float | None = None
    stop_reason: str | None = None
    rounds: int = 0
    tool_calls: int = 0
    errors: int = 0
    denials: int = 0
    flagged: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model: str | None = None
    transcript_path: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class CallRecord:
    """One tool call of a session and its outcome."""

    session_id: str
    persona_id: str
    seq: int
    round: int
    call_id: str
    tool: str
    module: str
    outcome: Outcome
    duration_ms: float = 0.0
    message: str = ""
    created_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class FeedbackRecord:
    """What the rating turn returned: valid feedback, or the raw answers when invalid."""

    session_id: str
    persona_id: str
    created_at: float
    valid: bool
    attempts: int
    ratings: dict[str, int] = field(default_factory=dict)
    friction: list[str] = field(default_factory=list)
    bugs: list[str] = field(default_factory=list)
    comment: str = ""
    raw: list[str] = field(default_factory=list)
    error: str | None = None


class SqlPersonaStore:
    """Persona sessions, calls, feedback and pause switches on SQLAlchemy Core."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(self) -> SqlPersonaStore:
        """Create the tables when missing."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        return self

    # persona users

    async def register_user(self, persona_id: str, user_id: str) -> bool:
        """Mark `user_id` as a user of kind `persona`; True when newly registered."""
        async with self.engine.begin() as conn:
            found = await conn.scalar(
                sa.select(persona_users_table.c.user_id).where(
                    persona_users_table.c.user_id == user_id
                )
            )
            if found is not None:
                return False
            await conn.execute(
                persona_users_table.insert().values(
                    user_id=user_id, persona_id=persona_id, kind="persona", created_at=time.time()
                )
            )
        return True

    async def persona_users(self) -> dict[str, str]:
        """Persona id -> user id, for every registered persona user."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(persona_users_table))
            return {r.persona_id: r.user_id for r in rows}

    # sessions

    async def record_session(self, record: SessionRecord) -> None:
        """Insert or update one session."""
        values = record.__dict__.copy()
        async with self.engine.begin() as conn:
            updated = await conn.execute(
                sessions_table.update().where(sessions_table.c.id == record.id).values(**values)
            )
            if updated.rowcount == 0:
                await conn.execute(sessions_table.insert().values(**values))

    async def add_calls(self, calls: list[CallRecord]) -> None:
        """Store a session's tool calls."""
        if not calls:
            return
        rows = [c.__dict__ | {"message": c.message[:MESSAGE_CHARS]} for c in calls]
        async with self.engine.begin() as conn:
            await conn.execute(tool_calls_table.insert(), rows)

    async def add_feedback(self, record: FeedbackRecord) -> None:
        """Store a session's feedback (valid or not)."""
        values = record.__dict__ | {
            "ratings": json.dumps(record.ratings),
            "friction": json.dumps(record.friction, ensure_ascii=False),
            "bugs": json.dumps(record.bugs, ensure_ascii=False),
            "raw": json.dumps(record.raw, ensure_ascii=False),
        }
        async with self.engine.begin() as conn:
            await conn.execute(
                feedback_table.delete().where(feedback_table.c.session_id == record.session_id)
            )
            await conn.execute(feedback_table.insert().values(**values))

    async def sessions(
        self, *, since: float | None = None, persona_id: str | None = None
    ) -> list[SessionRecord]:
        """Sessions, oldest first."""
        query = sessions_table.select().order_by(sessions_table.c.started_at)
        if since is not None:
            query = query.where(sessions_table.c.started_at >= since)
        if persona_id is not None:
            query = query.where(sessions_table.c.persona_id == persona_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [SessionRecord(**dict(r)) for r in rows]

    async def calls(self, session_ids: list[str] | None = None) -> list[CallRecord]:
        """Tool calls of these sessions (all when None), in session order."""
        query = tool_calls_table.select().order_by(
            tool_calls_table.c.session_id, tool_calls_table.c.seq
        )
        if session_ids is not None:
            query = query.where(tool_calls_table.c.session_id.in_(session_ids))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [CallRecord(**{k: v for k, v in r.items() if k != "id"}) for r in rows]

    async def feedback(self, session_ids: list[str] | None = None) -> list[FeedbackRecord]:
        """Feedback of these sessions (all when None), oldest first."""
        query = feedback_table.select().order_by(feedback_table.c.created_at)
        if session_ids is not None:
            query = query.where(feedback_table.c.session_id.in_(session_ids))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_feedback(dict(r)) for r in rows]

    async def last_sessions(self) -> dict[str, float]:
        """Persona id -> start time of its latest session."""
        query = sa.select(
            sessions_table.c.persona_id, sa.func.max(sessions_table.c.started_at)
        ).group_by(sessions_table.c.persona_id)
        async with self.engine.connect() as conn:
            rows = await conn.execute(query)
            return {str(r[0]): float(r[1]) for r in rows}

    # pause switches

    async def set_paused(self, key: str, paused: bool) -> None:
        """Pause or resume one persona, or every persona with key `*`."""
        async with self.engine.begin() as conn:
            updated = await conn.execute(
                switches_table.update()
                .where(switches_table.c.key == key)
                .values(paused=paused, updated_at=time.time())
            )
            if updated.rowcount == 0:
                await conn.execute(
                    switches_table.insert().values(key=key, paused=paused, updated_at=time.time())
                )

    async def paused(self) -> set[str]:
        """Keys currently paused (`*` means every persona)."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(switches_table.c.key).where(switches_table.c.paused.is_(True))
            )
            return {str(r[0]) for r in rows}


def _feedback(row: dict[str, Any]) -> FeedbackRecord:
    for key in ("ratings", "friction", "bugs", "raw"):
        row[key] = json.loads(row[key])
    return FeedbackRecord(**row)
