"""todo.create / complete / list / delete: to-dos of the active space (title, text sealed)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from planner import ToolContext
from toolkits.models import ToolModel, require_datetime, to_datetime
from toolkits.scope import ScopedSession
from toolkits.toolkit import Toolkit, once, tool_method

Priority = Literal["low", "normal", "high"]
ENTITY = "todo"


class TodoOut(ToolModel):
    """A to-do."""

    id: str
    title: str
    description: str | None
    due_date: date | None
    priority: Priority
    completed: bool
    completed_at: datetime | None
    created_at: datetime


class TodoCreateInput(ToolModel):
    """A new to-do."""

    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    due_date: date | None = Field(default=None, description="YYYY-MM-DD")
    priority: Priority = "normal"


class TodoIdInput(ToolModel):
    """One to-do, by id."""

    todo_id: str


class TodoListInput(ToolModel):
    """Which to-dos to list."""

    status: Literal["open", "done", "all"] = "open"
    limit: int = Field(default=50, ge=1, le=200)


class TodoListOutput(ToolModel):
    """To-dos of the active space, oldest first."""

    todos: list[TodoOut]


class TodoDeleteOutput(ToolModel):
    """The id of the deleted to-do."""

    deleted_id: str


class TodoTools(Toolkit):
    """The to-do tools: titles and descriptions sealed at rest under the author's key."""

    async def todo_out(self, row: dict[str, Any]) -> TodoOut:
        """A stored to-do row, opened, as the model sees it."""
        plain = await self.cipher.open(ENTITY, row["author_id"], row, where=f"todo {row['id']}")
        return TodoOut(
            id=row["id"],
            title=plain["title"],
            description=plain["description"],
            due_date=date.fromisoformat(row["due_date"]) if row["due_date"] else None,
            priority=row["priority"],
            completed=row["completed_at"] is not None,
            completed_at=to_datetime(row["completed_at"]),
            created_at=require_datetime(row["created_at"]),
        )

    @tool_method(
        "todo.create",
        "Create a to-do in the active space with a title, optional description, "
        "due date (YYYY-MM-DD) and priority.",
        policy_hint="write",
    )
    @once
    async def create(self, s: ScopedSession, inp: TodoCreateInput) -> TodoOut:
        """Seal the title and description, then insert the to-do."""
        values = {
            "title": inp.title,
            "description": inp.description,
            "due_date": inp.due_date.isoformat() if inp.due_date else None,
            "priority": inp.priority,
        }
        sealed = await self.cipher.seal(ENTITY, s.user_id, values)
        return await self.todo_out(await s.create(ENTITY, sealed))

    @tool_method(
        "todo.complete",
        "Mark a to-do done by its id (completing a done to-do changes nothing).",
        policy_hint="write",
        idempotent=True,
    )
    @once
    async def complete(self, s: ScopedSession, inp: TodoIdInput) -> TodoOut:
        """Stamp completed_at unless the to-do is done already."""
        row = await s.require(ENTITY, inp.todo_id, "to-do")
        if row["completed_at"] is None:
            row = await s.update(ENTITY, inp.todo_id, {"completed_at": s.now()})
        return await self.todo_out(row)

    @tool_method(
        "todo.list",
        "List to-dos of the active space: open (default), done, or all.",
        policy_hint="read",
    )
    async def list_todos(self, ctx: ToolContext, inp: TodoListInput) -> TodoListOutput:
        """Visible to-dos of the active space, oldest first, filtered by status."""
        async with self.store.scoped(ctx) as s:
            rows = await s.select(ENTITY)
        if inp.status != "all":
            rows = [r for r in rows if (r["completed_at"] is not None) == (inp.status == "done")]
        return TodoListOutput(todos=[await self.todo_out(r) for r in rows[: inp.limit]])

    @tool_method(
        "todo.delete",
        "Delete a to-do by its id. It disappears from every list.",
        policy_hint="destructive",
        idempotent=True,
    )
    @once
    async def delete(self, s: ScopedSession, inp: TodoIdInput) -> TodoDeleteOutput:
        """Tombstone the to-do (a synced soft delete)."""
        await s.require(ENTITY, inp.todo_id, "to-do")
        await s.soft_delete(ENTITY, inp.todo_id)
        return TodoDeleteOutput(deleted_id=inp.todo_id)
