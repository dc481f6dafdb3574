"""The call ledger: effectively-once write tools, keyed by (user, run, ctx.call_id).

A write tool's effect and the record of its result commit in one transaction. A second
execution of the same call (a durable step re-run after a crash, a client's retry) finds the
record and returns the recorded result with no second effect. A tool whose effect waits on a
slow outside call (image generation) takes its credits first as a *hold*: the hold and a
pending record commit together, and the effect, the refund of what was not used and the
result commit together later; a re-run finds the hold and takes no credits again.

Records are sealed under the user's key (results can hold decrypted text). A call without a
call id is never recorded: there is nothing to recognise a second execution by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio
import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from planner import ToolContext
from toolkits import credits
from toolkits.crypto import FieldCipher
from toolkits.errors import IdempotencyConflictError
from toolkits.schema import tool_calls
from toolkits.scope import ScopedSession
from toolkits.store import Store
from toolkits.tenancy import insert_ignore

Out = TypeVar("Out", bound=BaseModel)
Work = Callable[[ScopedSession], Awaitable[Out]]


@dataclass(frozen=True)
class CallKey:
    """Which call: the user, the run and the call id dispatch gave it."""

    user_id: str
    run_id: str
    call_id: str

    @classmethod
    def of(cls, ctx: ToolContext) -> CallKey | None:
        """The key of ctx's call, or None when it has no call id (never recorded)."""
        return cls(ctx.user_id, ctx.run_id, ctx.call_id) if ctx.call_id else None

    def where(self) -> sa.ColumnElement[bool]:
        """The ledger row of this call."""
        c = tool_calls.c
        return sa.and_(
            c.user_id == self.user_id, c.run_id == self.run_id, c.call_id == self.call_id
        )


@dataclass(frozen=True)
class Entry:
    """What an earlier execution of a call left: its result (None while pending), its hold."""

    result: str | None
    held_credits: int


@dataclass(frozen=True)
class Hold(Generic[Out]):
    """Credits taken for a call whose effect commits later; `done` if it completed already."""

    key: CallKey | None
    credits: int
    done: Out | None = None


class _RecordedMeanwhile(Exception):
    """Another execution recorded this call first: roll back ours, return theirs."""


def fingerprint(tool: str, inp: BaseModel) -> str:
    """A digest of the tool and its validated arguments: what makes two calls the same call."""
    return hashlib.sha256(f"{tool}\n{inp.model_dump_json()}".encode()).hexdigest()


async def claim(
    conn: AsyncConnection, key: CallKey, tool: str, digest: str, now: int, held: int = 0
) -> Entry | None:
    """Claim `key` for this execution (None), or return what an earlier execution left.

    On PostgreSQL a concurrent claim of the same key waits here until the first commits.
    """
    values = {
        "user_id": key.user_id,
        "run_id": key.run_id,
        "call_id": key.call_id,
        "tool": tool,
        "input_digest": digest,
        "held_credits": held,
        "created_at": now,
    }
    if await insert_ignore(conn, tool_calls, values):
        return None
    c = tool_calls.c
    row = (
        await conn.execute(
            sa.select(c.tool, c.input_digest, c.result, c.held_credits).where(key.where())
        )
    ).one()
    if row.tool != tool:
        raise IdempotencyConflictError(key.call_id, f"was already used for {row.tool}, not {tool}")
    if row.input_digest != digest:
        raise IdempotencyConflictError(
            key.call_id, f"was already used for {tool} with other arguments"
        )
    return Entry(row.result, int(row.held_credits))


async def complete(conn: AsyncConnection, key: CallKey, result: str, now: int) -> bool:
    """Record the result of a claimed call; False when another execution recorded it first."""
    done = await conn.execute(
        sa.update(tool_calls)
        .where(key.where(), tool_calls.c.result.is_(None))
        .values(result=result, completed_at=now)
    )
    return bool(done.rowcount)


async def release(conn: AsyncConnection, key: CallKey) -> int | None:
    """Forget a pending call; the credits it held, or None when it is not pending."""
    gone = await conn.execute(
        sa.delete(tool_calls)
        .where(key.where(), tool_calls.c.result.is_(None))
        .returning(tool_calls.c.held_credits)
    )
    held = gone.scalar_one_or_none()
    return None if held is None else int(held)


class CallLedger:
    """Runs write tools effectively-once over one store; records sealed with the user's key."""

    def __init__(self, store: Store, cipher: FieldCipher) -> None:
        self.store = store
        self.cipher = cipher

    async def run(
        self, ctx: ToolContext, tool: str, inp: BaseModel, output: type[Out], work: Work[Out]
    ) -> Out:
        """`work` in one scoped transaction with the record of its result; once per call id."""
        key = CallKey.of(ctx)
        try:
            async with self.store.scoped(ctx) as s:
                if key is not None:
                    entry = await claim(s.connection, key, tool, fingerprint(tool, inp), s.now())
                    if entry is not None:
                        return await self._recorded(key, entry, output)
                out = await work(s)
                if key is not None:
                    await self._complete(s, key, out)
                return out
        except _RecordedMeanwhile:
            assert key is not None
            return await self.recorded(key, output)

    async def hold(
        self, ctx: ToolContext, tool: str, inp: BaseModel, amount: int, output: type[Out]
    ) -> Hold[Out]:
        """Take `amount` credits for this call (InsufficientCreditsError takes none).

        A re-run of a call that holds credits takes none again; one that completed gets its
        recorded result as `done`.
        """
        key = CallKey.of(ctx)
        async with self.store.scoped(ctx) as s:
            if key is not None:
                digest = fingerprint(tool, inp)
                entry = await claim(s.connection, key, tool, digest, s.now(), held=amount)
                if entry is not None and entry.result is not None:
                    return Hold(
                        key, entry.held_credits, await self._open(key, entry.result, output)
                    )
                if entry is not None:
                    return Hold(key, entry.held_credits)
            await credits.debit(s.connection, ctx.user_id, amount)
        return Hold(key, amount)

    async def settle(
        self, ctx: ToolContext, hold: Hold[Out], refund: int, output: type[Out], work: Work[Out]
    ) -> Out:
        """Give back `refund` of the hold, then `work`, then the record: one transaction."""
        try:
            async with self.store.scoped(ctx) as s:
                if refund:
                    await credits.grant(s.connection, ctx.user_id, refund)
                out = await work(s)
                if hold.key is not None:
                    await self._complete(s, hold.key, out)
                return out
        except _RecordedMeanwhile:
            assert hold.key is not None
            return await self.recorded(hold.key, output)

    async def release(self, ctx: ToolContext, hold: Hold[Out]) -> None:
        """The held call failed: give its credits back and forget it (shielded from cancel)."""
        with anyio.CancelScope(shield=True):
            async with self.store.transaction() as conn:
                held = hold.credits if hold.key is None else await release(conn, hold.key)
                if held:
                    await credits.grant(conn, ctx.user_id, held)

    async def recorded(self, key: CallKey, output: type[Out]) -> Out:
        """The recorded result of a completed call."""
        async with self.store.transaction() as conn:
            result = await conn.scalar(sa.select(tool_calls.c.result).where(key.where()))
        if result is None:
            raise IdempotencyConflictError(key.call_id, "has no recorded result")
        return await self._open(key, str(result), output)

    async def _recorded(self, key: CallKey, entry: Entry, output: type[Out]) -> Out:
        if entry.result is None:
            raise IdempotencyConflictError(key.call_id, "is held by an execution still running")
        return await self._open(key, entry.result, output)

    async def _complete(self, s: ScopedSession, key: CallKey, out: BaseModel) -> None:
        sealed = await self.cipher.seal_record(key.user_id, out.model_dump_json())
        if not await complete(s.connection, key, sealed, s.now()):
            raise _RecordedMeanwhile(key.call_id)

    async def _open(self, key: CallKey, sealed: str, output: type[Out]) -> Out:
        return output.model_validate_json(await self.cipher.open_record(key.user_id, sealed))
