"""The app's tools (spaces, todo, habits, notes, journal, me) and the store they act on."""

from __future__ import annotations

from pathlib import Path

from openai import AsyncOpenAI

from planner.tools import ToolRegistry
from toolkits import admin, habits, journal, me, notes, spaces, todo
from toolkits.crypto import FieldCipher
from toolkits.images import DEFAULT_IMAGE_MODEL
from toolkits.keyvault import KeyVault, LocalKeyVault
from toolkits.media import DEFAULT_MEDIA_DIR
from toolkits.store import Store, open_store

__all__ = ["KeyVault", "LocalKeyVault", "Store", "default_registry", "open_store"]


def default_registry(
    store: Store,
    vault: KeyVault,
    *,
    media_dir: Path = DEFAULT_MEDIA_DIR,
    image_client: AsyncOpenAI | None = None,
    image_model: str = DEFAULT_IMAGE_MODEL,
) -> ToolRegistry:
    """Every app tool, bound to this store, key vault, media directory and image client."""
    cipher = FieldCipher(vault)
    return ToolRegistry(
        [
            *spaces.specs(store),
            *habits.specs(store),
            *todo.specs(store, cipher),
            *notes.specs(store, cipher),
            *journal.specs(store, cipher),
            *me.specs(
                store,
                cipher,
                media_dir=Path(media_dir),
                image_client=image_client,
                image_model=image_model,
            ),
            *admin.specs(store),
        ]
    )
