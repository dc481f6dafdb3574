"""The run store: mission runs and plan-only proposals, in the app's database."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from missions.errors import MissionError

INTERRUPTED = "interrupted"
"""The stop reason of an unfinished run that a signal stopped; running its id resumes it."""
ProposalStatus = Literal["pending", "approved", "rejected", "failed"]

metadata = sa.MetaData()


def run_columns() -> list[sa.Column[Any]]:
    """The columns every recorded loop run has (mission runs, persona sessions)."""
    return [
        sa.Column("finished_at", sa.Float),
        sa.Column("stop_reason", sa.String(40)),
        sa.Column("rounds", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tool_calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost_usd", sa.Float, nullable=False, server_default="0"),
        sa.Column("model", sa.String(200)),
        sa.Column("transcript_path", sa.Text),
        sa.Column("error", sa.Text),
    ]


runs_table = sa.Table(
    "mission_runs",
    metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("mission_id", sa.String(120), nullable=False, index=True),
    sa.Column("started_at", sa.Float, nullable=False),
    *run_columns(),
)

proposals_table = sa.Table(
    "mission_proposals",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("run_id", sa.String(80), nullable=False, index=True),
    sa.Column("mission_id", sa.String(120), nullable=False),
    sa.Column("mission_path", sa.Text),
    sa.Column("user_id", sa.String(200), nullable=False),
    sa.Column("space_id", sa.String(200), nullable=False),
    sa.Column("tool", sa.String(120), nullable=False),
    sa.Column("arguments", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("decided_at", sa.Float),
    sa.Column("result", sa.Text),
)


class ProposalStateError(MissionError):
    """A proposal cannot move to the asked state (already decided, or unknown)."""


@dataclass(frozen=True)
class RunRecord:
    """One mission run as the store keeps it."""

    id: str
    mission_id: str
    started_at: float
    finished_at: float | None
    stop_reason: str | None
    rounds: int
    tool_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    model: str | None
    transcript_path: str | None
    error: str | None


@dataclass(frozen=True)
class Proposal:
    """A write a plan-only mission wanted to make, waiting for a person."""

    id: str
    run_id: str
    mission_id: str
    mission_path: str | None
    user_id: str
    space_id: str
    tool: str
    arguments: dict[str, Any]
    created_at: float
    status: ProposalStatus
    decided_at: float | None
    result: dict[str, Any] | None


class RunStore(Protocol):
    """Where runs and proposals live."""

    async def record_run(self, run: RunRecord) -> None:
        """Insert or update one run."""
        ...

    async def list_runs(self, mission_id: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Most recent runs first."""
        ...

    async def get_run(self, run_id: str) -> RunRecord | None:
        """One run by id."""
        ...


def new_proposal_id() -> str:
    """A short, unique proposal id: P-xxxxxxxx."""
    return f"P-{secrets.token_hex(4)}"


class SqlRunStore:
    """RunStore on SQLAlchemy Core: SQLite by default, PostgreSQL with the same code."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(self) -> SqlRunStore:
        """Create the tables when missing."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        return self

    async def record_run(self, run: RunRecord) -> None:
        """Insert or update one run."""
        values = run.__dict__.copy()
        async with self.engine.begin() as conn:
            updated = await conn.execute(
                runs_table.update().where(runs_table.c.id == run.id).values(**values)
            )
            if updated.rowcount == 0:
                await conn.execute(runs_table.insert().values(**values))

    async def mark_interrupted(self, run_id: str) -> None:
        """Record that an unfinished run was stopped by a signal (a finished run is kept)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                runs_table.update()
                .where(runs_table.c.id == run_id)
                .where(runs_table.c.finished_at.is_(None))
                .values(stop_reason=INTERRUPTED)
            )

    async def list_runs(self, mission_id: str | None = None, limit: int = 50) -> list[RunRecord]:
        """Most recent runs first."""
        query = runs_table.select().order_by(runs_table.c.started_at.desc()).limit(limit)
        if mission_id:
            query = query.where(runs_table.c.mission_id == mission_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [RunRecord(**dict(r)) for r in rows]

    async def get_run(self, run_id: str) -> RunRecord | None:
        """One run by id."""
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(runs_table.select().where(runs_table.c.id == run_id)))
                .mappings()
                .first()
            )
        return RunRecord(**dict(row)) if row else None

    async def add_proposal(
        self,
        *,
        run_id: str,
        mission_id: str,
        mission_path: str | None,
        user_id: str,
        space_id: str,
        tool: str,
        arguments: dict[str, Any],
    ) -> Proposal:
        """Record a pending proposal."""
        proposal = Proposal(
            id=new_proposal_id(),
            run_id=run_id,
            mission_id=mission_id,
            mission_path=mission_path,
            user_id=user_id,
            space_id=space_id,
            tool=tool,
            arguments=arguments,
            created_at=time.time(),
            status="pending",
            decided_at=None,
            result=None,
        )
        values = proposal.__dict__ | {"arguments": json.dumps(arguments), "result": None}
        async with self.engine.begin() as conn:
            await conn.execute(proposals_table.insert().values(**values))
        return proposal

    async def list_proposals(
        self, status: ProposalStatus | None = None, run_id: str | None = None
    ) -> list[Proposal]:
        """Proposals, oldest first."""
        query = proposals_table.select().order_by(proposals_table.c.created_at)
        if status:
            query = query.where(proposals_table.c.status == status)
        if run_id:
            query = query.where(proposals_table.c.run_id == run_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_proposal(dict(r)) for r in rows]

    async def get_proposal(self, proposal_id: str) -> Proposal:
        """One proposal; ProposalStateError when there is none with that id."""
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        proposals_table.select().where(proposals_table.c.id == proposal_id)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise ProposalStateError(f"no proposal {proposal_id}")
        return _proposal(dict(row))

    async def claim(self, proposal_id: str, status: ProposalStatus) -> Proposal:
        """Move a pending proposal to `status` atomically; refuse one already decided."""
        async with self.engine.begin() as conn:
            updated = await conn.execute(
                proposals_table.update()
                .where(proposals_table.c.id == proposal_id)
                .where(proposals_table.c.status == "pending")
                .values(status=status, decided_at=time.time())
            )
        if updated.rowcount != 1:
            current = await self.get_proposal(proposal_id)
            raise ProposalStateError(
                f"proposal {proposal_id} is {current.status}, not pending: it cannot be {status}"
            )
        return await self.get_proposal(proposal_id)

    async def set_result(
        self, proposal_id: str, status: ProposalStatus, result: dict[str, Any]
    ) -> None:
        """Store what running an approved proposal returned."""
        async with self.engine.begin() as conn:
            await conn.execute(
                proposals_table.update()
                .where(proposals_table.c.id == proposal_id)
                .values(status=status, result=json.dumps(result))
            )


def _proposal(row: dict[str, Any]) -> Proposal:
    row["arguments"] = json.loads(row["arguments"])
    row["result"] = json.loads(row["result"]) if row["result"] else None
    return Proposal(**row)
