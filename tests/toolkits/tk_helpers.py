"""Helpers shared by the toolkits tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.tools import ToolContext, ToolRegistry
from toolkits import media
from toolkits.crypto import FieldCipher
from toolkits.keyvault import KeyVault
from toolkits.seed import solid_png
from toolkits.store import Store

START_MS = 1_750_000_000_000


class FakeClock:
    """A store clock that moves 1 ms per reading, so server stamps are ordered and known."""

    def __init__(self, start: int = START_MS) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now


@dataclass(frozen=True)
class Caller:
    """Calls tools the way the loop does: validate input, run the handler, dump JSON."""

    registry: ToolRegistry

    async def __call__(
        self, name: str, ctx: ToolContext, args: dict[str, Any] | None = None
    ) -> Any:
        spec = self.registry.get(name)
        assert spec is not None, name
        inp = spec.input_model.model_validate(args or {})
        out = await spec.handler(ctx, inp)
        assert isinstance(out, spec.output_model)
        return out.model_dump(mode="json")


def ctx(user: str, space: str = "personal", invoker: Any = "mission") -> ToolContext:
    """A tool context."""
    return ToolContext(user_id=user, space_id=space, run_id="test", invoker=invoker)


async def add_image(
    store: Store,
    vault: KeyVault,
    media_dir: Path,
    user: str,
    space: str = "personal",
    *,
    kind: str = "face",
    reference: bool = True,
    slot: str | None = None,
) -> str:
    """Add a small PNG as one of `user`'s me-images in `space`; returns its media id."""
    async with store.scoped(ctx(user, space)) as s:
        row = await media.add_image(
            s,
            FieldCipher(vault),
            media_dir,
            solid_png((10, 20, 30)),
            mime="image/png",
            kind=kind,
            ai_reference=reference,
            label=f"{user} {kind}",
        )
        if slot is not None:
            await media.set_primary(s, row["id"], slot)
        return str(row["id"])
