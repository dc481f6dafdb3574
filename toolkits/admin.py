"""admin.users.list: an admin-scope tool; the policy gate never lets a user or mission call it."""

from __future__ import annotations

from planner import ToolContext
from toolkits.errors import PermissionDeniedError
from toolkits.models import NoInput, ToolModel
from toolkits.toolkit import Toolkit, tool_method


class UserOut(ToolModel):
    """A user account."""

    id: str
    credits: int
    is_admin: bool


class UsersListOutput(ToolModel):
    """Every user."""

    users: list[UserOut]


class AdminTools(Toolkit):
    """Admin-scope tools: the gate denies them to every invoker but an admin."""

    @tool_method(
        "admin.users.list",
        "List every user account with its credit balance (administrators only).",
        policy_hint="read",
        scope="admin",
    )
    async def list_users(self, ctx: ToolContext, _inp: NoInput) -> UsersListOutput:
        """Every user account; refused here too when the invoker is not an admin."""
        if ctx.invoker != "admin":
            raise PermissionDeniedError("admin.users.list is for administrators only")
        return UsersListOutput(
            users=[
                UserOut(id=u.id, credits=u.credits, is_admin=u.is_admin)
                for u in await self.store.list_users()
            ]
        )
