"""habits.create / update / archive / list: habits of the active space."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from planner import ToolContext
from toolkits.errors import NothingToUpdateError
from toolkits.models import ToolModel, require_datetime
from toolkits.scope import ScopedSession
from toolkits.toolkit import Toolkit, once, tool_method

Cadence = Literal["daily", "weekly", "monthly"]
ENTITY = "habits"
UPDATABLE = ("name", "description", "cadence", "target")


class HabitOut(ToolModel):
    """A habit."""

    id: str
    name: str
    description: str | None
    cadence: Cadence
    target: int = Field(description="times per cadence period")
    archived: bool
    created_at: datetime


class HabitsCreateInput(ToolModel):
    """A new habit."""

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    cadence: Cadence = "daily"
    target: int = Field(default=1, ge=1, le=100, description="times per cadence period")


class HabitsUpdateInput(ToolModel):
    """Fields to change on a habit; omitted fields stay as they are."""

    habit_id: str
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    cadence: Cadence | None = None
    target: int | None = Field(default=None, ge=1, le=100)


class HabitIdInput(ToolModel):
    """One habit, by id."""

    habit_id: str


class HabitsListInput(ToolModel):
    """Which habits to list."""

    include_archived: bool = False


class HabitsListOutput(ToolModel):
    """Habits of the active space, oldest first."""

    habits: list[HabitOut]


def habit_out(row: dict[str, Any]) -> HabitOut:
    """A stored habit row as the model sees it."""
    return HabitOut(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        cadence=row["cadence"],
        target=row["target"],
        archived=bool(row["archived"]),
        created_at=require_datetime(row["created_at"]),
    )


class HabitsTools(Toolkit):
    """The habits tools (habits are not sealed: nothing in them is private text)."""

    @tool_method(
        "habits.create",
        "Create a habit to track in the active space (name, cadence, target).",
        policy_hint="write",
    )
    @once
    async def create(self, s: ScopedSession, inp: HabitsCreateInput) -> HabitOut:
        """Insert the habit."""
        return habit_out(await s.create(ENTITY, inp.model_dump(by_alias=False)))

    @tool_method(
        "habits.update",
        "Change a habit's name, description, cadence or target by its id.",
        policy_hint="write",
        idempotent=True,
    )
    @once
    async def update(self, s: ScopedSession, inp: HabitsUpdateInput) -> HabitOut:
        """Write the fields the call names; a null description clears it."""
        changes = inp.model_dump(by_alias=False, exclude={"habit_id"}, exclude_unset=True)
        changes = {k: v for k, v in changes.items() if v is not None or k == "description"}
        if not changes:
            raise NothingToUpdateError(UPDATABLE)
        await s.require(ENTITY, inp.habit_id, "habit")
        return habit_out(await s.update(ENTITY, inp.habit_id, changes))

    @tool_method(
        "habits.archive",
        "Archive a habit by its id: it stops showing in habits.list.",
        policy_hint="write",
        idempotent=True,
    )
    @once
    async def archive(self, s: ScopedSession, inp: HabitIdInput) -> HabitOut:
        """Set the archived flag."""
        await s.require(ENTITY, inp.habit_id, "habit")
        return habit_out(await s.update(ENTITY, inp.habit_id, {"archived": True}))

    @tool_method(
        "habits.list",
        "List the habits of the active space (archived ones only on request).",
        policy_hint="read",
    )
    async def list_habits(self, ctx: ToolContext, inp: HabitsListInput) -> HabitsListOutput:
        """Visible habits of the active space, oldest first."""
        async with self.store.scoped(ctx) as s:
            rows = await s.select(ENTITY)
        return HabitsListOutput(
            habits=[habit_out(r) for r in rows if inp.include_archived or not r["archived"]]
        )
