"""Image edits with reference images through the official openai SDK (`images.edit`).

The SDK is imported on first use of an image call: importing it costs about a second, which
every command that builds the tool registry (`run`, `runs list`) would otherwise pay.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from toolkits.errors import ImageGenerationError

if TYPE_CHECKING:
    import openai
    from openai import AsyncOpenAI

Quality = Literal["low", "medium", "high"]
Size = Literal["1024x1024", "1536x1024", "1024x1536", "auto"]
DEFAULT_IMAGE_MODEL = "gpt-image-1"
MIME_BY_FORMAT = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class ReferenceImage:
    """One reference image sent with the request."""

    filename: str
    data: bytes
    mime: str


@dataclass(frozen=True)
class GeneratedImage:
    """One image the API returned."""

    data: bytes
    mime: str


def make_image_client(
    *, api_key: str, base_url: str | None = None, timeout_s: float = 120.0
) -> AsyncOpenAI:
    """An AsyncOpenAI client for image calls; SDK retries off (the caller decides on retries)."""
    from openai import AsyncOpenAI

    return AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0)


async def edit_with_references(
    client: AsyncOpenAI,
    *,
    model: str,
    prompt: str,
    references: list[ReferenceImage],
    n: int,
    quality: Quality,
    size: Size,
    user: str | None = None,
) -> list[GeneratedImage]:
    """Call `images.edit` with the references; any API failure is an ImageGenerationError."""
    import openai
    from openai import omit

    try:
        response = await client.images.edit(
            image=[(r.filename, r.data, r.mime) for r in references],
            prompt=prompt,
            model=model,
            n=n,
            quality=quality,
            size=size,
            safety_identifier=user if user else omit,
        )
    except openai.APIStatusError as exc:
        raise ImageGenerationError(
            f"the image API refused the request (HTTP {exc.status_code}): {_api_message(exc)}"
        ) from None
    except openai.APIError as exc:
        raise ImageGenerationError(f"the image API call failed: {exc.message}") from None
    mime = MIME_BY_FORMAT.get(response.output_format or "png", "image/png")
    images: list[GeneratedImage] = []
    for item in response.data or []:
        if not item.b64_json:
            raise ImageGenerationError("the image API returned an image without data")
        try:
            images.append(GeneratedImage(base64.b64decode(item.b64_json, validate=True), mime))
        except (binascii.Error, ValueError):
            raise ImageGenerationError("the image API returned undecodable image data") from None
    if not images:
        raise ImageGenerationError("the image API returned no images")
    return images


def _api_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return exc.message
