"""admin.users.list: an admin-scope tool; the policy gate never lets a user or mission call it."""

from __future__ import annotations

from planner.tools import AnyToolSpec, ToolContext, ToolSpec
from toolkits.errors import PermissionDeniedError
from toolkits.models import NoInput, ToolModel
from toolkits.store import Store


class UserOut(ToolModel):
    """A user account."""

    id: str
    credits: int
    is_admin: bool


class UsersListOutput(ToolModel):
    """Every user."""

    users: list[UserOut]


def specs(store: Store) -> list[AnyToolSpec]:
    """The admin tools."""

    async def list_users(ctx: ToolContext, _inp: NoInput) -> UsersListOutput:
        if ctx.invoker != "admin":
            raise PermissionDeniedError("admin.users.list is for administrators only")
        return UsersListOutput(
            users=[
                UserOut(id=u.id, credits=u.credits, is_admin=u.is_admin)
                for u in await store.list_users()
            ]
        )

    return [
        ToolSpec(
            name="admin.users.list",
            description="List every user account with its credit balance (administrators only).",
            input_model=NoInput,
            output_model=UsersListOutput,
            handler=list_users,
            scope="admin",
            policy_hint="read",
        )
    ]
