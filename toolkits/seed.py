"""Demo data for the demo mission: to-dos, habits, notes, journal, two reference images."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner import ToolContext
from toolkits import media
from toolkits.crypto import FieldCipher
from toolkits.keyvault import KeyVault
from toolkits.media import DEFAULT_MEDIA_DIR
from toolkits.scope import ScopedSession
from toolkits.store import Store
from toolkits.tenancy import personal_space_id

DEMO_CREDITS = 100

TODOS = [
    {
        "title": "Book the dentist",
        "description": "Check-up, any weekday morning",
        "priority": "high",
        "due_date": None,
    },
    {"title": "Renew passport", "description": None, "priority": "normal", "due_date": None},
    {
        "title": "Buy running shoes",
        "description": "Trail, size 43",
        "priority": "low",
        "due_date": None,
    },
]
HABITS = [
    {"name": "Morning run", "cadence": "daily", "target": 1, "description": "20 minutes"},
    {"name": "Read", "cadence": "daily", "target": 1, "description": "30 pages"},
    {"name": "Call parents", "cadence": "weekly", "target": 1, "description": None},
]
NOTES = [
    {"title": "Trip ideas", "content": "Lisbon in spring; hike the Rota Vicentina."},
    {"title": "Book list", "content": "Piranesi, The Dispossessed, Middlemarch."},
]
JOURNAL = [
    {
        "content": "Good run today, legs felt fresh.",
        "mood": "energised",
        "entry_date": "2025-01-06",
    },
    {
        "content": "Slow day; finished the book list note.",
        "mood": "calm",
        "entry_date": "2025-01-07",
    },
]


@dataclass(frozen=True)
class DemoImage:
    """A demo reference image: a solid colour square."""

    kind: str
    label: str
    color: tuple[int, int, int]
    slot: str | None


IMAGES = [
    DemoImage("face", "Portrait, window light", (200, 150, 120), "face"),
    DemoImage("body", "Full length, outdoors", (90, 130, 180), None),
]


@dataclass(frozen=True)
class SeedSummary:
    """How many demo rows were created (0 when they already existed)."""

    space_id: str
    created: int
    credits: int


async def seed_demo(
    store: Store,
    vault: KeyVault,
    user_id: str,
    *,
    media_dir: Path = DEFAULT_MEDIA_DIR,
    credits: int = DEMO_CREDITS,
) -> SeedSummary:
    """Create demo data in the user's personal space; running it again adds nothing."""
    cipher = FieldCipher(vault)
    space = await store.personal_space(user_id)
    ctx = ToolContext(user_id=user_id, space_id=space.id, run_id="seed")
    created = 0
    async with store.scoped(ctx) as s:
        for i, todo in enumerate(TODOS):
            sealed = await cipher.seal("todo", user_id, todo)
            created += await _create_once(s, "todo", _id(user_id, "todo", i), sealed)
        for i, habit in enumerate(HABITS):
            created += await _create_once(s, "habits", _id(user_id, "habit", i), habit)
        for i, note in enumerate(NOTES):
            sealed = await cipher.seal("notes", user_id, note)
            created += await _create_once(s, "notes", _id(user_id, "note", i), sealed)
        for i, entry in enumerate(JOURNAL):
            sealed = await cipher.seal("journal", user_id, entry)
            created += await _create_once(s, "journal", _id(user_id, "journal", i), sealed)
        for i, image in enumerate(IMAGES):
            media_id = _id(user_id, "image", i)
            if await s.get(media.ENTITY, media_id, include_deleted=True) is not None:
                continue
            await media.add_image(
                s,
                cipher,
                media_dir,
                solid_png(image.color),
                mime="image/png",
                kind=image.kind,
                ai_reference=True,
                label=image.label,
                tags=["demo"],
                media_id=media_id,
            )
            if image.slot:
                await media.set_primary(s, media_id, image.slot)
            created += 1
    balance = await store.credits(user_id)
    if created and balance < credits:
        balance = await store.grant_credits(user_id, credits - balance)
    return SeedSummary(personal_space_id(user_id), created, balance)


async def _create_once(s: ScopedSession, entity: str, row_id: str, values: dict[str, Any]) -> int:
    if await s.get(entity, row_id, include_deleted=True) is not None:
        return 0
    await s.create(entity, values, row_id=row_id)
    return 1


def _id(user_id: str, what: str, i: int) -> str:
    return f"demo-{user_id}-{what}-{i + 1}"


def solid_png(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    """A small valid PNG of one colour (demo reference images need real image bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
