"""Field encryption: AES-GCM-256 in the WebCrypto-compatible `enc:1:{iv}.{ct}` wire format.

`ct` is the ciphertext followed by the 16-byte tag (WebCrypto's layout), both parts canonical
standard base64 exactly as the browser's `btoa` writes it: padded to a multiple of four, no
whitespace, no URL-safe characters, zero trailing bits. Anything else is refused, so one
plaintext-and-IV has exactly one accepted wire value. Master keys come from a KeyVault, one
per user; a row's fields are sealed under the key of the row's author.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from toolkits.errors import (
    DecryptionError,
    InvalidKeyMaterialError,
    MalformedCiphertextError,
    ZeroKnowledgeUserError,
)
from toolkits.keyvault import KeyVault

PREFIX = "enc:1:"
KEY_BYTES = 32
IV_BYTES = 12
TAG_BYTES = 16

FieldKind = Literal["text", "json"]

ENCRYPTED_FIELDS: Mapping[str, Mapping[str, FieldKind]] = MappingProxyType(
    {
        "notes": MappingProxyType({"title": "text", "content": "text"}),
        "journal": MappingProxyType({"content": "text"}),
        "me_images": MappingProxyType({"label": "text", "tags": "json"}),
        "todo": MappingProxyType({"title": "text", "description": "text"}),
    }
)
"""Which fields of which entity are stored encrypted, and how their plaintext is shaped."""


def seal_bytes(key: bytes, plaintext: bytes, *, iv: bytes | None = None) -> str:
    """Encrypt bytes to `enc:1:{b64(iv)}.{b64(ct||tag)}` (a fresh random IV unless given)."""
    if len(key) != KEY_BYTES:
        raise InvalidKeyMaterialError("AES-256-GCM key", KEY_BYTES, len(key))
    nonce = os.urandom(IV_BYTES) if iv is None else iv
    if len(nonce) != IV_BYTES:
        raise InvalidKeyMaterialError("IV", IV_BYTES, len(nonce))
    sealed = AESGCM(key).encrypt(nonce, plaintext, None)
    return f"{PREFIX}{_b64(nonce)}.{_b64(sealed)}"


def open_bytes(key: bytes, value: str) -> bytes:
    """Decrypt a `enc:1:` value; malformed input and failed authentication raise, never garble."""
    if len(key) != KEY_BYTES:
        raise InvalidKeyMaterialError("AES-256-GCM key", KEY_BYTES, len(key))
    nonce, sealed = parse_wire(value)
    try:
        return AESGCM(key).decrypt(nonce, sealed, None)
    except InvalidTag:
        raise DecryptionError(
            "decryption failed: the data was tampered with or sealed under another key"
        ) from None


def parse_wire(value: object) -> tuple[bytes, bytes]:
    """Split a wire value into (iv, ciphertext||tag), checking every part."""
    if not isinstance(value, str):
        raise MalformedCiphertextError(
            f"an encrypted value is a string, not {type(value).__name__}"
        )
    if not value.startswith("enc:"):
        raise MalformedCiphertextError("not an encrypted value (no 'enc:' prefix)")
    if not value.startswith(PREFIX):
        version = value.split(":", 2)[1] if value.count(":") >= 2 else "?"
        raise MalformedCiphertextError(f"unsupported encryption format version {version!r}")
    body = value[len(PREFIX) :]
    parts = body.split(".")
    if len(parts) != 2:
        raise MalformedCiphertextError("encrypted value must be '{iv}.{ciphertext}'")
    nonce, sealed = _unb64(parts[0], "IV"), _unb64(parts[1], "ciphertext")
    if len(nonce) != IV_BYTES:
        raise MalformedCiphertextError(f"IV must be {IV_BYTES} bytes, got {len(nonce)}")
    if len(sealed) < TAG_BYTES:
        raise MalformedCiphertextError("ciphertext is shorter than the 16-byte tag")
    return nonce, sealed


def is_ciphertext(value: object) -> bool:
    """True when `value` is a well-formed `enc:1:` string (authenticity is not checked)."""
    try:
        parse_wire(value)
    except MalformedCiphertextError:
        return False
    return True


def encrypt_text(key: bytes, text: str) -> str:
    """Encrypt a UTF-8 string to the wire format."""
    return seal_bytes(key, text.encode("utf-8"))


def decrypt_text(key: bytes, value: str) -> str:
    """Decrypt a wire value to the UTF-8 string it holds."""
    raw = open_bytes(key, value)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedCiphertextError("decrypted value is not UTF-8 text") from None


class FieldCipher:
    """Seals and opens the registered encrypted fields of an entity under its author's key."""

    def __init__(
        self,
        vault: KeyVault,
        registry: Mapping[str, Mapping[str, FieldKind]] = ENCRYPTED_FIELDS,
    ) -> None:
        self._vault = vault
        self._registry = registry

    def fields_of(self, entity: str) -> Mapping[str, FieldKind]:
        """The encrypted fields of `entity` (empty when it has none)."""
        return self._registry.get(entity, MappingProxyType({}))

    async def seal(self, entity: str, author_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of `values` with the encrypted fields sealed; None stays None."""
        kinds = self.fields_of(entity)
        out = dict(values)
        todo = [f for f in kinds if out.get(f) is not None]
        if not todo:
            return out
        key = await self._vault.key_for(author_id, create=True)
        for name in todo:
            plain = out[name] if kinds[name] == "text" else json.dumps(out[name])
            out[name] = encrypt_text(key, str(plain))
        return out

    async def seal_record(self, user_id: str, text: str) -> str:
        """`text` sealed under the user's key; a zero-knowledge user's text is kept as it is.

        A tool that succeeded for a zero-knowledge user opened no sealed field (the server
        has no key to open it with), so its result holds nothing sealed to protect.
        """
        try:
            key = await self._vault.key_for(user_id, create=True)
        except ZeroKnowledgeUserError:
            return text
        return encrypt_text(key, text)

    async def open_record(self, user_id: str, value: str) -> str:
        """The text seal_record sealed (a value it kept as it is comes back unchanged)."""
        if not value.startswith(PREFIX):
            return value
        return decrypt_text(await self._vault.key_for(user_id), value)

    async def open(
        self, entity: str, author_id: str, values: Mapping[str, Any], *, where: str = ""
    ) -> dict[str, Any]:
        """A copy of `values` with the encrypted fields opened; errors name the field."""
        kinds = self.fields_of(entity)
        out = dict(values)
        todo = [f for f in kinds if out.get(f) is not None]
        if not todo:
            return out
        key = await self._vault.key_for(author_id)
        for name in todo:
            label = f"{where}.{name}" if where else name
            try:
                plain = decrypt_text(key, str(out[name]))
                out[name] = plain if kinds[name] == "text" else json.loads(plain)
            except (DecryptionError, MalformedCiphertextError) as exc:
                raise type(exc)(f"{label}: {exc}") from None
            except json.JSONDecodeError:
                raise MalformedCiphertextError(f"{label}: decrypted value is not JSON") from None
        return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, part: str) -> bytes:
    """Decode one part; only the canonical encoding `btoa` writes is accepted."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedCiphertextError(
            f"the {part} of the encrypted value is not valid base64"
        ) from None
    if _b64(data) != text:
        raise MalformedCiphertextError(
            f"the {part} of the encrypted value is not canonical base64 "
            "(padded to a multiple of 4, no whitespace, standard alphabet, zero trailing bits)"
        )
    return data
