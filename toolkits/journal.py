"""journal.add: a journal entry in the active space (content sealed at rest)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from toolkits.models import ToolModel, require_datetime
from toolkits.scope import ScopedSession
from toolkits.toolkit import Toolkit, once, tool_method

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


class JournalTools(Toolkit):
    """The journal tool: entries sealed at rest."""

    @tool_method(
        "journal.add",
        "Add a journal entry to the active space: free text, an optional mood and date.",
        policy_hint="write",
    )
    @once
    async def add(self, s: ScopedSession, inp: JournalAddInput) -> JournalEntryOut:
        """Seal the content and insert the entry, dated today (UTC) unless a date is given."""
        sealed = await self.cipher.seal(ENTITY, s.user_id, {"content": inp.content})
        day = inp.entry_date or require_datetime(s.now()).date()
        row = await s.create(ENTITY, {**sealed, "mood": inp.mood, "entry_date": day.isoformat()})
        return JournalEntryOut(
            id=row["id"],
            entry_date=day,
            mood=inp.mood,
            created_at=require_datetime(row["created_at"]),
        )
