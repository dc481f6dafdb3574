"""Per-user master keys: the KeyVault protocol and a local keystore file (mode 0600)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from toolkits.errors import KeystoreError, MissingKeyError, ZeroKnowledgeUserError

KEY_BYTES = 32
DEFAULT_KEYSTORE = Path("var/keystore.json")
Change = Callable[[dict[str, Any]], bool]
"""An edit of the keystore's data; returns True when the file must be written."""


class KeyVault(Protocol):
    """Where users' 32-byte master keys come from."""

    async def key_for(self, user_id: str, *, create: bool = False) -> bytes:
        """The user's master key; ZeroKnowledgeUserError for users whose key the server lacks."""
        ...


class LocalKeyVault:
    """A JSON keystore file: 32 random bytes per user, plus the users marked zero-knowledge."""

    def __init__(self, path: Path = DEFAULT_KEYSTORE) -> None:
        self.path = Path(path)
        self._keys: dict[str, bytes] = {}
        self._lock = asyncio.Lock()

    async def key_for(self, user_id: str, *, create: bool = False) -> bytes:
        """The user's key, created (and persisted) on first use when `create` is set."""
        if user_id in self._keys:
            return self._keys[user_id]
        async with self._lock:
            key = await asyncio.to_thread(self._load_or_create, user_id, create)
        self._keys[user_id] = key
        return key

    async def mark_zero_knowledge(self, user_id: str) -> None:
        """Mark the user zero-knowledge and drop any server-side copy of their key."""
        async with self._lock:
            await asyncio.to_thread(self._update, _mark_zk(user_id))
        self._keys.pop(user_id, None)

    def _load_or_create(self, user_id: str, create: bool) -> bytes:
        created: dict[str, bytes] = {}

        def change(data: dict[str, Any]) -> bool:
            if user_id in data["zeroKnowledge"]:
                raise ZeroKnowledgeUserError(user_id)
            if user_id in data["keys"]:
                created["key"] = self._stored_key(data["keys"][user_id], user_id)
                return False
            if not create:
                raise MissingKeyError(f"no encryption key is stored for user {user_id!r}")
            created["key"] = os.urandom(KEY_BYTES)
            data["keys"][user_id] = base64.b64encode(created["key"]).decode("ascii")
            return True

        self._update(change)
        return created["key"]

    def _update(self, change: Change) -> None:
        """Run `change(data) -> bool` under an exclusive file lock; write back when it says so."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self._read()
            if change(data):
                self._write(data)
        finally:
            os.close(fd)

    def _read(self) -> dict[str, Any]:
        """The keystore's data; a file that is not a keystore is a KeystoreError naming it."""
        if not self.path.exists():
            return {"version": 1, "keys": {}, "zeroKnowledge": []}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KeystoreError(self.path, f"not a JSON keystore ({exc})") from None
        if not isinstance(data, dict):
            raise KeystoreError(self.path, "a keystore is a JSON object")
        data.setdefault("keys", {})
        data.setdefault("zeroKnowledge", [])
        if not isinstance(data["keys"], dict) or not isinstance(data["zeroKnowledge"], list):
            raise KeystoreError(self.path, "'keys' must be an object, 'zeroKnowledge' a list")
        return data

    def _stored_key(self, text: object, user_id: str) -> bytes:
        """A key as the keystore holds it: base64 of 32 bytes, or KeystoreError."""
        try:
            key = base64.b64decode(str(text), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise KeystoreError(
                self.path, f"keys.{user_id}: not the base64 of a {KEY_BYTES}-byte key"
            )
        return key

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


def _mark_zk(user_id: str) -> Change:
    def change(data: dict[str, Any]) -> bool:
        data["keys"].pop(user_id, None)
        if user_id not in data["zeroKnowledge"]:
            data["zeroKnowledge"].append(user_id)
        return True

    return change
