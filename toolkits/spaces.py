"""spaces.list: the spaces the caller belongs to."""

from __future__ import annotations

from planner import ToolContext
from toolkits.models import NoInput, ToolModel
from toolkits.tenancy import resolve_space_id
from toolkits.toolkit import Toolkit, tool_method


class SpaceOut(ToolModel):
    """One space the user belongs to."""

    id: str
    type: str
    name: str
    role: str
    active: bool


class SpacesListOutput(ToolModel):
    """The user's spaces and which one the tools act on."""

    active_space_id: str
    spaces: list[SpaceOut]


class SpacesTools(Toolkit):
    """The spaces tool: which spaces the caller belongs to, and which one is active."""

    @tool_method(
        "spaces.list",
        "List the spaces you belong to (personal, brand, club, family, team, practice) "
        "with your role in each. Every other tool acts only on the active space; "
        "data in your other spaces is invisible to it.",
        policy_hint="read",
    )
    async def list_spaces(self, ctx: ToolContext, _inp: NoInput) -> SpacesListOutput:
        """The caller's memberships, the active space marked."""
        active = resolve_space_id(ctx.user_id, ctx.space_id)
        found = await self.store.spaces_of(ctx.user_id)
        return SpacesListOutput(
            active_space_id=active,
            spaces=[
                SpaceOut(
                    id=m.space.id,
                    type=m.space.type,
                    name=m.space.name,
                    role=m.role,
                    active=m.space.id == active,
                )
                for m in found
            ],
        )
