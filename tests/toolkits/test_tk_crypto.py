"""Field encryption: known-answer vectors, the wire format, round trips, tamper, keys."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from toolkits.crypto import (
    FieldCipher,
    decrypt_text,
    encrypt_text,
    is_ciphertext,
    open_bytes,
    seal_bytes,
)
from toolkits.errors import (
    DecryptionError,
    InvalidKeyMaterialError,
    MalformedCiphertextError,
    MissingKeyError,
    ZeroKnowledgeUserError,
)
from toolkits.keyvault import LocalKeyVault

WIRE_RE = re.compile(r"^enc:1:([A-Za-z0-9+/]+={0,2})\.([A-Za-z0-9+/]+={0,2})$")

# McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13-15
# (AES-256; no additional authenticated data).
KAT = [
    pytest.param("00" * 32, "00" * 12, "", "", "530f8afbc74536b9a963b4f1c4cb738b", id="tc13"),
    pytest.param(
        "00" * 32,
        "00" * 12,
        "00" * 16,
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
        id="tc14",
    ),
    pytest.param(
        "feffe9928665731c6d6a8f9467308308" * 2,
        "cafebabefacedbaddecaf888",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
        "b094dac5d93471bdec1a502270e3cc6c",
        id="tc15",
    ),
]


@pytest.mark.parametrize(("key", "iv", "plaintext", "ciphertext", "tag"), KAT)
def test_known_answer_vectors(key: str, iv: str, plaintext: str, ciphertext: str, tag: str) -> None:
    value = seal_bytes(bytes.fromhex(key), bytes.fromhex(plaintext), iv=bytes.fromhex(iv))
    b64_iv = base64.b64encode(bytes.fromhex(iv)).decode()
    b64_ct = base64.b64encode(bytes.fromhex(ciphertext + tag)).decode()
    expected = f"enc:1:{b64_iv}.{b64_ct}"
    assert value == expected
    assert open_bytes(bytes.fromhex(key), value) == bytes.fromhex(plaintext)


def test_wire_format_is_webcrypto_layout() -> None:
    key = os.urandom(32)
    value = encrypt_text(key, "hello, wörld")
    m = WIRE_RE.match(value)
    assert m is not None
    iv, sealed = base64.b64decode(m[1]), base64.b64decode(m[2])
    assert len(iv) == 12
    assert len(sealed) == len("hello, wörld".encode()) + 16
    # WebCrypto's AES-GCM output is ciphertext||tag, exactly what AESGCM.decrypt takes.
    assert AESGCM(key).decrypt(iv, sealed, None).decode() == "hello, wörld"


def test_round_trip_and_fresh_iv() -> None:
    key = os.urandom(32)
    texts = ["", "a", "naïve café ☕", "x" * 10_000]
    for text in texts:
        assert decrypt_text(key, encrypt_text(key, text)) == text
    assert encrypt_text(key, "same") != encrypt_text(key, "same")


def _flip(value: str, part: int, byte: int) -> str:
    iv_b64, ct_b64 = value.removeprefix("enc:1:").split(".")
    parts = [bytearray(base64.b64decode(iv_b64)), bytearray(base64.b64decode(ct_b64))]
    parts[part][byte] ^= 0x01
    return "enc:1:{}.{}".format(*(base64.b64encode(bytes(p)).decode() for p in parts))


@pytest.mark.parametrize(("part", "byte"), [(0, 0), (1, 0), (1, -1)], ids=["iv", "ct", "tag"])
def test_tampering_is_detected(part: int, byte: int) -> None:
    key = os.urandom(32)
    with pytest.raises(DecryptionError, match="tampered"):
        decrypt_text(key, _flip(encrypt_text(key, "secret"), part, byte))


def test_wrong_key_is_an_error() -> None:
    value = encrypt_text(os.urandom(32), "secret")
    with pytest.raises(DecryptionError, match="another key"):
        decrypt_text(os.urandom(32), value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("plain text", "no 'enc:' prefix"),
        ("enc:2:AAAA.AAAA", "version '2'"),
        ("enc:1:onlyonepart", "'{iv}.{ciphertext}'"),
        ("enc:1:!!!.AAAA", "base64"),
        ("enc:1:AAAA.AAAAAAAAAAAAAAAAAAAAAAAA", "IV must be 12 bytes"),
        ("enc:1:AAAAAAAAAAAAAAAA.AAAA", "shorter than the 16-byte tag"),
    ],
)
def test_malformed_values_are_errors(value: str, message: str) -> None:
    assert not is_ciphertext(value)
    with pytest.raises(MalformedCiphertextError, match=re.escape(message)):
        decrypt_text(os.urandom(32), value)


IV16 = "AAAAAAAAAAAAAAAA"  # 12 zero bytes, canonical
CT24 = "AAAAAAAAAAAAAAAAAAAAAAAA"  # 18 bytes, canonical


@pytest.mark.parametrize(
    "value",
    [
        f"enc:1:{IV16}==.{CT24}",  # extra padding (decoded by Python, refused by atob)
        f"enc:1:{IV16}.{CT24[:-2]}B=",  # trailing bits set: btoa never writes this
        f"enc:1:{IV16}.AAAAAAAAAAAAAAAAAAAAAAA",  # missing padding
        f"enc:1:AAAA AAAAAAAAAAAA.{CT24}",  # whitespace
        f"enc:1:{IV16}.{CT24}\n",  # trailing newline
        f"enc:1:{IV16}.{CT24[:-4]}-_-_",  # URL-safe alphabet
        "enc:1:ＡＡＡＡ.AAAA",  # non-ASCII
    ],
)
def test_only_canonical_base64_is_accepted(value: str) -> None:
    assert not is_ciphertext(value)
    with pytest.raises(MalformedCiphertextError, match=r"(not canonical|not valid) base64"):
        open_bytes(os.urandom(32), value)


def test_non_strings_and_bad_keys_are_typed_errors() -> None:
    assert not is_ciphertext(b"enc:1:AAAA.AAAA")
    with pytest.raises(MalformedCiphertextError, match="a string, not bytes"):
        open_bytes(os.urandom(32), b"enc:1:AAAA.AAAA")  # type: ignore[arg-type]
    with pytest.raises(InvalidKeyMaterialError, match="key must be 32 bytes, got 16"):
        seal_bytes(os.urandom(16), b"x")
    with pytest.raises(InvalidKeyMaterialError, match="IV must be 12 bytes, got 8"):
        seal_bytes(os.urandom(32), b"x", iv=b"12345678")
    with pytest.raises(InvalidKeyMaterialError, match="key must be 32 bytes"):
        open_bytes(b"short", encrypt_text(os.urandom(32), "x"))


async def test_keystore_file_is_private_and_persistent(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keystore.json"
    vault = LocalKeyVault(path)
    key = await vault.key_for("alice", create=True)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await LocalKeyVault(path).key_for("alice") == key
    assert await vault.key_for("bob", create=True) != key
    assert set(json.loads(path.read_text())["keys"]) == {"alice", "bob"}


async def test_missing_key_is_not_created_on_read(tmp_path: Path) -> None:
    vault = LocalKeyVault(tmp_path / "keystore.json")
    with pytest.raises(MissingKeyError):
        await vault.key_for("nobody")


async def test_zero_knowledge_user_has_no_server_key(tmp_path: Path) -> None:
    vault = LocalKeyVault(tmp_path / "keystore.json")
    await vault.key_for("zoe", create=True)
    await vault.mark_zero_knowledge("zoe")
    for v in (vault, LocalKeyVault(tmp_path / "keystore.json")):
        with pytest.raises(ZeroKnowledgeUserError, match="cannot be read"):
            await v.key_for("zoe", create=True)
    assert "zoe" not in json.loads((tmp_path / "keystore.json").read_text())["keys"]


async def test_field_cipher_seals_registered_fields_only(tmp_path: Path) -> None:
    cipher = FieldCipher(LocalKeyVault(tmp_path / "keystore.json"))
    row = {"label": "me", "tags": ["a", "b"], "kind": "face", "path": "x.png"}
    sealed = await cipher.seal("me_images", "alice", row)
    assert is_ciphertext(sealed["label"]) and is_ciphertext(sealed["tags"])
    assert sealed["kind"] == "face" and sealed["path"] == "x.png"
    assert await cipher.open("me_images", "alice", sealed) == row
    assert (await cipher.seal("todo", "alice", {"title": "t", "description": None}))[
        "description"
    ] is None


async def test_field_cipher_errors_name_the_field(tmp_path: Path) -> None:
    cipher = FieldCipher(LocalKeyVault(tmp_path / "keystore.json"))
    sealed = await cipher.seal("notes", "alice", {"title": "t", "content": "c"})
    await cipher.seal("notes", "bob", {"title": "t", "content": "c"})
    with pytest.raises(DecryptionError, match=r"^note n1\.content: "):
        await cipher.open(
            "notes", "alice", {**sealed, "content": _flip(sealed["content"], 1, 3)}, where="note n1"
        )
    with pytest.raises(DecryptionError):
        await cipher.open("notes", "bob", sealed)
