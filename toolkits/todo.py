"""todo.create / complete / list / delete: to-dos of the active space (title, text sealed)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from planner.tools import AnyToolSpec, ToolContext, ToolSpec
from toolkits.crypto import FieldCipher
from toolkits.models import ToolModel, require_datetime, to_datetime
from toolkits.store import Store

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


def specs(store: Store, cipher: FieldCipher) -> list[AnyToolSpec]:
    """The to-do tools."""

    async def todo_out(row: dict[str, Any]) -> TodoOut:
        plain = await cipher.open(ENTITY, row["author_id"], row, where=f"todo {row['id']}")
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

    async def create(ctx: ToolContext, inp: TodoCreateInput) -> TodoOut:
        values = {
            "title": inp.title,
            "description": inp.description,
            "due_date": inp.due_date.isoformat() if inp.due_date else None,
            "priority": inp.priority,
        }
        sealed = await cipher.seal(ENTITY, ctx.user_id, values)
        async with store.scoped(ctx) as s:
            row = await s.create(ENTITY, sealed)
        return await todo_out(row)

    async def complete(ctx: ToolContext, inp: TodoIdInput) -> TodoOut:
        async with store.scoped(ctx) as s:
            row = await s.require(ENTITY, inp.todo_id, "to-do")
            if row["completed_at"] is None:
                row = await s.update(ENTITY, inp.todo_id, {"completed_at": s.now()})
        return await todo_out(row)

    async def list_todos(ctx: ToolContext, inp: TodoListInput) -> TodoListOutput:
        async with store.scoped(ctx) as s:
            rows = await s.select(ENTITY)
        if inp.status != "all":
            rows = [r for r in rows if (r["completed_at"] is not None) == (inp.status == "done")]
        return TodoListOutput(todos=[await todo_out(r) for r in rows[: inp.limit]])

    async def delete(ctx: ToolContext, inp: TodoIdInput) -> TodoDeleteOutput:
        async with store.scoped(ctx) as s:
            await s.require(ENTITY, inp.todo_id, "to-do")
            await s.soft_delete(ENTITY, inp.todo_id)
        return TodoDeleteOutput(deleted_id=inp.todo_id)

    return [
        ToolSpec(
            name="todo.create",
            description=(
                "Create a to-do in the active space with a title, optional description, "
                "due date (YYYY-MM-DD) and priority."
            ),
            input_model=TodoCreateInput,
            output_model=TodoOut,
            handler=create,
            policy_hint="write",
        ),
        ToolSpec(
            name="todo.complete",
            description="Mark a to-do done by its id (completing a done to-do changes nothing).",
            input_model=TodoIdInput,
            output_model=TodoOut,
            handler=complete,
            policy_hint="write",
            idempotent=True,
        ),
        ToolSpec(
            name="todo.list",
            description="List to-dos of the active space: open (default), done, or all.",
            input_model=TodoListInput,
            output_model=TodoListOutput,
            handler=list_todos,
            policy_hint="read",
        ),
        ToolSpec(
            name="todo.delete",
            description="Delete a to-do by its id. It disappears from every list.",
            input_model=TodoIdInput,
            output_model=TodoDeleteOutput,
            handler=delete,
            policy_hint="destructive",
            idempotent=True,
        ),
    ]
