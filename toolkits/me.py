"""me.listReferenceImages / me.setPrimary / me.generateWithReference: the user's me-images."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from pydantic import Field

from planner import ToolContext
from toolkits import credits, media
from toolkits.crypto import FieldCipher
from toolkits.errors import ImageGenerationError, NotFoundError
from toolkits.images import (
    DEFAULT_IMAGE_MODEL,
    GeneratedImage,
    Quality,
    ReferenceImage,
    Size,
    edit_with_references,
)
from toolkits.ledger import Hold
from toolkits.models import ToolModel, require_datetime
from toolkits.scope import ScopedSession
from toolkits.store import Store
from toolkits.toolkit import Toolkit, once, tool_method

if TYPE_CHECKING:
    from openai import AsyncOpenAI

ENTITY = media.ENTITY
GENERATE = "me.generateWithReference"
CREDITS_PER_IMAGE: Mapping[Quality, int] = MappingProxyType({"low": 3, "medium": 10, "high": 25})
KIND_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


class ListReferenceImagesInput(ToolModel):
    """Optionally only one kind of image."""

    kind: str | None = Field(default=None, pattern=KIND_PATTERN, description="e.g. face, body")


class ReferenceImageOut(ToolModel):
    """A reference image: its media id, kind and the primary slot it holds, if any."""

    media_id: str
    kind: str
    primary_slot: str | None
    is_primary: bool
    created_at: datetime


class ListReferenceImagesOutput(ToolModel):
    """Your reference images in the active space."""

    images: list[ReferenceImageOut]


class SetPrimaryInput(ToolModel):
    """Which image becomes the primary one for which slot."""

    media_id: str
    slot: str = Field(pattern=KIND_PATTERN, description="e.g. face, body")


class SetPrimaryOutput(ToolModel):
    """The new holder of the slot and the image it replaced."""

    media_id: str
    slot: str
    previous_media_id: str | None


class GenerateInput(ToolModel):
    """An image to generate from your reference images."""

    prompt: str = Field(min_length=1, max_length=4000)
    reference_media_ids: list[str] = Field(min_length=1, max_length=8)
    quality: Quality = "medium"
    size: Size = "1024x1024"
    n: int = Field(default=1, ge=1, le=4, description="number of images")


class GeneratedOut(ToolModel):
    """One generated image as stored."""

    media_id: str
    path: str


class GenerateOutput(ToolModel):
    """The stored images and what they cost."""

    images: list[GeneratedOut]
    credits_charged: int
    credits_remaining: int


class MeTools(Toolkit):
    """The me-image tools: reference images per space, and generation from them for credits."""

    def __init__(
        self,
        store: Store,
        cipher: FieldCipher,
        *,
        media_dir: Path,
        image_client: AsyncOpenAI | None,
        image_model: str = DEFAULT_IMAGE_MODEL,
    ) -> None:
        super().__init__(store, cipher)
        self.media_dir = media_dir
        self.image_client = image_client
        self.image_model = image_model

    @tool_method(
        "me.listReferenceImages",
        "List your reference images (usable as AI references) in the active space only: "
        "media ids, kind (face, body, ...) and the primary slot each holds.",
        policy_hint="read",
    )
    async def list_reference_images(
        self, ctx: ToolContext, inp: ListReferenceImagesInput
    ) -> ListReferenceImagesOutput:
        """The caller's reference images in the active space, optionally of one kind."""
        async with self.store.scoped(ctx) as s:
            c = s.table(ENTITY).c
            where = [c.author_id == ctx.user_id, c.ai_reference.is_(True)]
            if inp.kind is not None:
                where.append(c.kind == inp.kind)
            rows = await s.select(ENTITY, *where)
        return ListReferenceImagesOutput(
            images=[
                ReferenceImageOut(
                    media_id=r["id"],
                    kind=r["kind"],
                    primary_slot=r["primary_slot"],
                    is_primary=r["primary_slot"] is not None,
                    created_at=require_datetime(r["created_at"]),
                )
                for r in rows
            ]
        )

    @tool_method(
        "me.setPrimary",
        "Make one of your images the primary one for a slot (e.g. face) in the active "
        "space; the image that held the slot there loses it. Other spaces are untouched.",
        policy_hint="write",
        idempotent=True,
    )
    @once
    async def set_primary(self, s: ScopedSession, inp: SetPrimaryInput) -> SetPrimaryOutput:
        """Move the slot to this image in the active space."""
        previous = await media.set_primary(s, inp.media_id, inp.slot)
        return SetPrimaryOutput(media_id=inp.media_id, slot=inp.slot, previous_media_id=previous)

    @tool_method(
        GENERATE,
        "Generate images from a prompt and your reference images (media ids from "
        "me.listReferenceImages, active space only). Costs credits per image: low 3, "
        "medium 10, high 25; refused when your balance is short, and nothing is charged "
        "if generation fails. Returns the new media ids and file paths.",
        policy_hint="write",
        timeout_s=180.0,
    )
    async def generate(self, ctx: ToolContext, inp: GenerateInput) -> GenerateOutput:
        """Hold the price, call the image API, then store the images and settle: once per call.

        A re-run of the same call (a durable step after a crash) is never charged twice and
        never stores a second set of images; it gets the recorded result when there is one.
        """
        if self.image_client is None:
            raise ImageGenerationError("image generation is not configured on this server")
        references = await self.load_references(ctx, inp.reference_media_ids)
        price = CREDITS_PER_IMAGE[inp.quality]
        held = await self.ledger.hold(ctx, GENERATE, inp, price * inp.n, GenerateOutput)
        if held.done is not None:
            return held.done
        try:
            images = await edit_with_references(
                self.image_client,
                model=self.image_model,
                prompt=inp.prompt,
                references=references,
                n=inp.n,
                quality=inp.quality,
                size=inp.size,
            )
            images = images[: inp.n]
            return await self.store_outputs(ctx, held, price * (inp.n - len(images)), images)
        except BaseException:
            await self.ledger.release(ctx, held)
            raise

    async def load_references(self, ctx: ToolContext, media_ids: list[str]) -> list[ReferenceImage]:
        """The caller's images in the active space, read from disk; refuses anything else."""
        async with self.store.scoped(ctx) as s:
            s.require_writer()
            rows = [await media.own_image(s, m) for m in dict.fromkeys(media_ids)]
        refs: list[ReferenceImage] = []
        for row in rows:
            path = media.resolve(self.media_dir, row["path"])
            if not path.is_file():
                raise NotFoundError("image file for media", row["id"])
            refs.append(ReferenceImage(path.name, path.read_bytes(), row["mime"]))
        return refs

    async def store_outputs(
        self,
        ctx: ToolContext,
        held: Hold[GenerateOutput],
        refund: int,
        images: list[GeneratedImage],
    ) -> GenerateOutput:
        """Every output file and media row, the refund and the record in one transaction;
        the files are removed again when it does not commit."""
        rows: list[dict[str, Any]] = []
        charged = held.credits - refund
        try:
            return await self.ledger.settle(
                ctx,
                held,
                refund,
                GenerateOutput,
                lambda s: self.add_outputs(s, images, charged, rows),
            )
        except BaseException:
            for row in rows:
                media.resolve(self.media_dir, row["path"]).unlink(missing_ok=True)
            raise

    async def add_outputs(
        self,
        s: ScopedSession,
        images: list[GeneratedImage],
        charged: int,
        rows: list[dict[str, Any]],
    ) -> GenerateOutput:
        """Add each image as a generated me-image (nothing to seal: zero-knowledge users can
        generate too), appending its row to `rows` as it goes."""
        for img in images:
            row = await media.add_image(
                s,
                self.cipher,
                self.media_dir,
                img.data,
                mime=img.mime,
                kind="generated",
                ai_reference=False,
                source="generated",
            )
            rows.append(row)
        return GenerateOutput(
            images=[
                GeneratedOut(media_id=r["id"], path=str(media.resolve(self.media_dir, r["path"])))
                for r in rows
            ],
            credits_charged=charged,
            credits_remaining=await credits.balance(s.connection, s.user_id),
        )
