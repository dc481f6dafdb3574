"""spaces.list: the spaces the caller belongs to."""

from __future__ import annotations

from planner.tools import AnyToolSpec, ToolContext, ToolSpec
from toolkits.models import NoInput, ToolModel
from toolkits.store import Store
from toolkits.tenancy import resolve_space_id


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


def specs(store: Store) -> list[AnyToolSpec]:
    """The spaces tools."""

    async def list_spaces(ctx: ToolContext, _inp: NoInput) -> SpacesListOutput:
        active = resolve_space_id(ctx.user_id, ctx.space_id)
        found = await store.spaces_of(ctx.user_id)
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

    return [
        ToolSpec(
            name="spaces.list",
            description=(
                "List the spaces you belong to (personal, brand, club, family, team, practice) "
                "with your role in each. Every other tool acts only on the active space; "
                "data in your other spaces is invisible to it."
            ),
            input_model=NoInput,
            output_model=SpacesListOutput,
            handler=list_spaces,
            policy_hint="read",
        )
    ]
