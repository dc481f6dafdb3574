"""Me-images on disk and in the store: add an image, mark a primary slot (active space only)."""

from __future__ import annotations

import mimetypes
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toolkits.crypto import FieldCipher
from toolkits.errors import InvalidFieldError, NotFoundError, UnsupportedMediaError
from toolkits.scope import ScopedSession

ENTITY = "me_images"
DEFAULT_MEDIA_DIR = Path("var/media")
SLOT_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def space_dir_name(space_id: str) -> str:
    """A filesystem-safe directory name for a space."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", space_id)


def guess_mime(path: Path) -> str:
    """The image MIME type of a file, by its extension."""
    mime, _ = mimetypes.guess_type(path.name)
    if mime is None or not mime.startswith("image/"):
        raise UnsupportedMediaError(path)
    return mime


def write_file(media_dir: Path, space_id: str, media_id: str, data: bytes, ext: str) -> str:
    """Store the bytes under media_dir; returns the path relative to media_dir."""
    rel = Path(space_dir_name(space_id)) / f"{media_id}.{ext.lstrip('.')}"
    target = media_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return rel.as_posix()


def resolve(media_dir: Path, stored_path: str) -> Path:
    """The file of a stored media path (relative paths live under media_dir)."""
    return media_dir / stored_path


async def add_image(
    s: ScopedSession,
    cipher: FieldCipher,
    media_dir: Path,
    data: bytes,
    *,
    mime: str,
    kind: str,
    ai_reference: bool,
    label: str | None = None,
    tags: Sequence[str] | None = None,
    source: str = "upload",
    media_id: str | None = None,
) -> dict[str, Any]:
    """Write the file and insert the me-image row into the active space."""
    s.require_writer()
    media_id = media_id or uuid.uuid4().hex
    ext = mimetypes.guess_extension(mime) or ".bin"
    rel = write_file(media_dir, s.space_id, media_id, data, ext)
    try:
        sealed = await cipher.seal(
            ENTITY, s.user_id, {"label": label, "tags": list(tags) if tags is not None else None}
        )
        return await s.create(
            ENTITY,
            {
                **sealed,
                "kind": kind,
                "path": rel,
                "mime": mime,
                "ai_reference": ai_reference,
                "source": source,
            },
            row_id=media_id,
        )
    except BaseException:
        resolve(media_dir, rel).unlink(missing_ok=True)
        raise


async def own_image(s: ScopedSession, media_id: str) -> dict[str, Any]:
    """The caller's own live image with this id in the active space, or NotFoundError."""
    row = await s.get(ENTITY, media_id)
    if row is None or row["author_id"] != s.user_id:
        raise NotFoundError("image of yours", media_id)
    return row


async def set_primary(s: ScopedSession, media_id: str, slot: str) -> str | None:
    """Make the image the holder of `slot`; clears the previous holder in this space only."""
    if not SLOT_RE.match(slot):
        raise InvalidFieldError("slot", f"{slot!r} must match {SLOT_RE.pattern}")
    await own_image(s, media_id)
    table_c = s.table(ENTITY).c
    holders = await s.select(ENTITY, table_c.author_id == s.user_id, table_c.primary_slot == slot)
    previous: str | None = None
    for holder in holders:
        if holder["id"] != media_id:
            previous = holder["id"]
            await s.update(ENTITY, holder["id"], {"primary_slot": None})
    await s.update(ENTITY, media_id, {"primary_slot": slot})
    return previous
