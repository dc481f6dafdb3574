"""Typed toolkit errors, each naming the file, field or id that caused it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tk_helpers import ctx

from toolkits import media
from toolkits.errors import (
    InvalidFieldError,
    KeystoreError,
    SpaceExistsError,
    StoreError,
    UnknownEntityError,
    UnknownSpaceError,
    UnsupportedMediaError,
)
from toolkits.keyvault import LocalKeyVault
from toolkits.store import Store


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe not text", "not a JSON keystore"),
        (b"{not json", "not a JSON keystore"),
        (b"[1, 2]", "a keystore is a JSON object"),
        (b'{"keys": []}', "'keys' must be an object"),
        (b'{"keys": {"alice": "!!"}}', "keys.alice: not the base64 of a 32-byte key"),
        (b'{"keys": {"alice": "AAAA"}}', "keys.alice: not the base64 of a 32-byte key"),
    ],
)
async def test_a_broken_keystore_names_its_file(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "keystore.json"
    path.write_bytes(content)
    with pytest.raises(KeystoreError, match=problem) as caught:
        await LocalKeyVault(path).key_for("alice", create=True)
    assert str(caught.value).startswith(f"{path}: ") and caught.value.path == path
    assert isinstance(caught.value, StoreError)


async def test_store_and_tenancy_errors_name_the_id_or_field(store: Store) -> None:
    with pytest.raises(InvalidFieldError, match=r"^amount: a grant must not be negative") as neg:
        await store.grant_credits("alice", -1)
    assert neg.value.field == "amount"
    assert await store.credits("alice") == 0
    with pytest.raises(UnknownSpaceError, match="'team:nope' does not exist") as gone:
        await store.add_member("team:nope", "bob")
    assert gone.value.space_id == "team:nope"
    await store.create_space("alice", "team", "T", space_id="team:t")
    with pytest.raises(SpaceExistsError, match="'team:t' already exists"):
        await store.create_space("alice", "team", "T again", space_id="team:t")
    with pytest.raises(InvalidFieldError, match=r"^role: unknown role 'boss'"):
        await store.add_member("team:t", "bob", "boss")


async def test_session_and_media_errors_are_typed(store: Store) -> None:
    async with store.scoped(ctx("alice")) as s:
        with pytest.raises(UnknownEntityError, match="unknown entity 'bogus'; one of habits"):
            s.table("bogus")
        with pytest.raises(InvalidFieldError, match=r"^slot: 'Face!' must match"):
            await media.set_primary(s, "any", "Face!")
    with pytest.raises(UnsupportedMediaError, match=r"^notes\.txt: not a recognised image"):
        media.guess_mime(Path("/tmp/notes.txt"))
