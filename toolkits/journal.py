"""journal.add: a journal entry in the active space (content sealed at rest)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from planner.tools import AnyToolSpec, ToolContext, ToolSpec
from toolkits.crypto import FieldCipher
from toolkits.models import ToolModel, require_datetime
from toolkits.store import Store

ENTITY = "journal"


class JournalAddInput(ToolModel):
    """A journal entry."""

    content: str = Field(min_length=1, max_length=50_000)
    mood: str | None = Field(default=None, max_length=40, description="one or two words")
    entry_date: date | None = Field(default=None, description="YYYY-MM-DD; today (UTC) if omitted")


class JournalEntryOut(ToolModel):
    """The stored entry."""

    id: str
    entry_date: date
    mood: str | None
    created_at: datetime


def specs(store: Store, cipher: FieldCipher) -> list[AnyToolSpec]:
    """The journal tools."""

    async def add(ctx: ToolContext, inp: JournalAddInput) -> JournalEntryOut:
        sealed = await cipher.seal(ENTITY, ctx.user_id, {"content": inp.content})
        async with store.scoped(ctx) as s:
            day = inp.entry_date or require_datetime(s.now()).date()
            row = await s.create(
                ENTITY, {**sealed, "mood": inp.mood, "entry_date": day.isoformat()}
            )
        return JournalEntryOut(
            id=row["id"],
            entry_date=day,
            mood=inp.mood,
            created_at=require_datetime(row["created_at"]),
        )

    return [
        ToolSpec(
            name="journal.add",
            description=(
                "Add a journal entry to the active space: free text, an optional mood and date."
            ),
            input_model=JournalAddInput,
            output_model=JournalEntryOut,
            handler=add,
            policy_hint="write",
        )
    ]
