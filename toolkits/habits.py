"""habits.create / update / archive / list: habits of the active space."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from planner.tools import AnyToolSpec, ToolContext, ToolSpec
from toolkits.errors import ToolkitError
from toolkits.models import ToolModel, require_datetime
from toolkits.store import Store

Cadence = Literal["daily", "weekly", "monthly"]


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


def specs(store: Store) -> list[AnyToolSpec]:
    """The habits tools."""

    async def create(ctx: ToolContext, inp: HabitsCreateInput) -> HabitOut:
        async with store.scoped(ctx) as s:
            row = await s.create("habits", inp.model_dump(by_alias=False))
        return habit_out(row)

    async def update(ctx: ToolContext, inp: HabitsUpdateInput) -> HabitOut:
        changes = inp.model_dump(by_alias=False, exclude={"habit_id"}, exclude_unset=True)
        changes = {k: v for k, v in changes.items() if v is not None or k == "description"}
        if not changes:
            raise ToolkitError(
                "nothing to update: give at least one of name, description, cadence, target"
            )
        async with store.scoped(ctx) as s:
            await s.require("habits", inp.habit_id, "habit")
            return habit_out(await s.update("habits", inp.habit_id, changes))

    async def archive(ctx: ToolContext, inp: HabitIdInput) -> HabitOut:
        async with store.scoped(ctx) as s:
            await s.require("habits", inp.habit_id, "habit")
            return habit_out(await s.update("habits", inp.habit_id, {"archived": True}))

    async def list_habits(ctx: ToolContext, inp: HabitsListInput) -> HabitsListOutput:
        async with store.scoped(ctx) as s:
            rows = await s.select("habits")
        return HabitsListOutput(
            habits=[habit_out(r) for r in rows if inp.include_archived or not r["archived"]]
        )

    return [
        ToolSpec(
            name="habits.create",
            description="Create a habit to track in the active space (name, cadence, target).",
            input_model=HabitsCreateInput,
            output_model=HabitOut,
            handler=create,
            policy_hint="write",
        ),
        ToolSpec(
            name="habits.update",
            description="Change a habit's name, description, cadence or target by its id.",
            input_model=HabitsUpdateInput,
            output_model=HabitOut,
            handler=update,
            policy_hint="write",
            idempotent=True,
        ),
        ToolSpec(
            name="habits.archive",
            description="Archive a habit by its id: it stops showing in habits.list.",
            input_model=HabitIdInput,
            output_model=HabitOut,
            handler=archive,
            policy_hint="write",
            idempotent=True,
        ),
        ToolSpec(
            name="habits.list",
            description="List the habits of the active space (archived ones only on request).",
            input_model=HabitsListInput,
            output_model=HabitsListOutput,
            handler=list_habits,
            policy_hint="read",
        ),
    ]
