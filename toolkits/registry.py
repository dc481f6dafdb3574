"""The app's default tool registry: every toolkit bound to one store, key vault and media folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from planner import ToolRegistry
from toolkits.admin import AdminTools
from toolkits.crypto import FieldCipher
from toolkits.habits import HabitsTools
from toolkits.images import DEFAULT_IMAGE_MODEL
from toolkits.journal import JournalTools
from toolkits.keyvault import KeyVault
from toolkits.me import MeTools
from toolkits.media import DEFAULT_MEDIA_DIR
from toolkits.notes import NotesTools
from toolkits.spaces import SpacesTools
from toolkits.store import Store
from toolkits.todo import TodoTools
from toolkits.toolkit import Toolkit

if TYPE_CHECKING:
    from openai import AsyncOpenAI


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
    kits: list[Toolkit] = [
        SpacesTools(store, cipher),
        HabitsTools(store, cipher),
        TodoTools(store, cipher),
        NotesTools(store, cipher),
        JournalTools(store, cipher),
        MeTools(
            store,
            cipher,
            media_dir=Path(media_dir),
            image_client=image_client,
            image_model=image_model,
        ),
        AdminTools(store, cipher),
    ]
    return ToolRegistry(spec for kit in kits for spec in kit.specs())
