"""notes.create / notes.search: notes of the active space, sealed at rest, searched opened."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from planner import ToolContext
from toolkits.models import ToolModel, require_datetime
from toolkits.scope import ScopedSession
from toolkits.toolkit import Toolkit, once, tool_method

ENTITY = "notes"
SNIPPET_CHARS = 160


class NotesCreateInput(ToolModel):
    """A new note."""

    title: str = Field(min_length=1, max_length=500)
    content: str = Field(min_length=1, max_length=50_000)


class NoteCreated(ToolModel):
    """The stored note."""

    id: str
    title: str
    created_at: datetime


class NotesSearchInput(ToolModel):
    """Words to find; a note matches when every word is in its title or content."""

    query: str = Field(min_length=1, max_length=500)
    limit: int = Field(default=10, ge=1, le=50)


class NoteMatch(ToolModel):
    """A matching note with a snippet around the first hit."""

    id: str
    title: str
    snippet: str
    created_at: datetime


class NotesSearchOutput(ToolModel):
    """Matches, newest first, and how many notes were searched."""

    matches: list[NoteMatch]
    searched: int


def snippet(content: str, word: str) -> str:
    """Up to SNIPPET_CHARS of `content` around the first occurrence of `word`."""
    at = max(content.lower().find(word.lower()), 0)
    start = max(at - SNIPPET_CHARS // 3, 0)
    text = content[start : start + SNIPPET_CHARS].replace("\n", " ")
    return ("…" if start else "") + text + ("…" if start + SNIPPET_CHARS < len(content) else "")


class NotesTools(Toolkit):
    """The notes tools: title and content sealed at rest, searched after opening."""

    @tool_method(
        "notes.create",
        "Create a note (title and content) in the active space.",
        policy_hint="write",
    )
    @once
    async def create(self, s: ScopedSession, inp: NotesCreateInput) -> NoteCreated:
        """Seal the title and content, then insert the note."""
        plain = {"title": inp.title, "content": inp.content}
        row = await s.create(ENTITY, await self.cipher.seal(ENTITY, s.user_id, plain))
        return NoteCreated(
            id=row["id"], title=inp.title, created_at=require_datetime(row["created_at"])
        )

    @tool_method(
        "notes.search",
        "Search the notes of the active space: a note matches when every word of the "
        "query appears in its title or content (case-insensitive). Newest first.",
        policy_hint="read",
    )
    async def search(self, ctx: ToolContext, inp: NotesSearchInput) -> NotesSearchOutput:
        """Open every visible note and keep those holding every word of the query."""
        async with self.store.scoped(ctx) as s:
            rows = await s.select(ENTITY)
        words = inp.query.lower().split()
        matches: list[NoteMatch] = []
        for row in reversed(rows):
            plain = await self.cipher.open(ENTITY, row["author_id"], row, where=f"note {row['id']}")
            haystack = f"{plain['title']}\n{plain['content']}".lower()
            if all(w in haystack for w in words):
                matches.append(
                    NoteMatch(
                        id=row["id"],
                        title=plain["title"],
                        snippet=snippet(plain["content"], words[0]),
                        created_at=require_datetime(row["created_at"]),
                    )
                )
        return NotesSearchOutput(matches=matches[: inp.limit], searched=len(rows))
