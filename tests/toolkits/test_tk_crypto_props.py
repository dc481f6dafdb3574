"""Properties of the `enc:1:` wire format: round trip, tamper detection, canonical base64."""

from __future__ import annotations

import base64
import contextlib
import os

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from toolkits.crypto import decrypt_text, encrypt_text, is_ciphertext, open_bytes, seal_bytes
from toolkits.errors import CryptoError, DecryptionError, MalformedCiphertextError

pytestmark = pytest.mark.property

KEY = os.urandom(32)
B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
keys = st.binary(min_size=32, max_size=32)
ivs = st.binary(min_size=12, max_size=12)


@given(key=keys, plaintext=st.binary(max_size=2048), iv=ivs)
def test_bytes_round_trip(key: bytes, plaintext: bytes, iv: bytes) -> None:
    value = seal_bytes(key, plaintext, iv=iv)
    assert is_ciphertext(value)
    assert open_bytes(key, value) == plaintext


@given(text=st.text(max_size=500))
def test_text_round_trip(text: str) -> None:
    assert decrypt_text(KEY, encrypt_text(KEY, text)) == text


@given(plaintext=st.binary(max_size=256), iv=ivs, data=st.data())
def test_any_flipped_bit_is_detected(plaintext: bytes, iv: bytes, data: st.DataObject) -> None:
    value = seal_bytes(KEY, plaintext, iv=iv)
    raw = bytearray(iv + base64.b64decode(value.split(".")[1]))
    at = data.draw(st.integers(0, len(raw) - 1), label="byte")
    raw[at] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    iv_b64, ct_b64 = (base64.b64encode(bytes(p)).decode() for p in (raw[:12], raw[12:]))
    tampered = f"enc:1:{iv_b64}.{ct_b64}"
    with pytest.raises(DecryptionError):
        open_bytes(KEY, tampered)


@given(key=keys)
def test_another_key_never_opens_a_value(key: bytes) -> None:
    assume(key != KEY)
    with pytest.raises(DecryptionError):
        open_bytes(key, seal_bytes(KEY, b"secret"))


@st.composite
def edits(draw: st.DrawFn, value: str) -> str:
    """`value` with one character replaced, inserted or deleted."""
    at = draw(st.integers(0, len(value) - 1))
    char = draw(st.sampled_from(B64_CHARS + " \n\t.:-_") | st.characters())
    how = draw(st.sampled_from(["replace", "insert", "delete"]))
    if how == "replace":
        return value[:at] + char + value[at + 1 :]
    if how == "insert":
        return value[:at] + char + value[at:]
    return value[:at] + value[at + 1 :]


@given(plaintext=st.binary(max_size=64), iv=ivs, data=st.data())
def test_every_other_string_is_refused(plaintext: bytes, iv: bytes, data: st.DataObject) -> None:
    """One wire value per (iv, ciphertext): any edit is malformed or fails authentication."""
    value = seal_bytes(KEY, plaintext, iv=iv)
    edited = data.draw(edits(value), label="edited")
    assume(edited != value)
    with pytest.raises(CryptoError):
        open_bytes(KEY, edited)


@given(iv=ivs, ct=st.binary(min_size=16, max_size=64), data=st.data())
def test_non_canonical_base64_is_malformed(iv: bytes, ct: bytes, data: st.DataObject) -> None:
    """What `atob`/`btoa` would not write: missing or extra padding, whitespace, URL-safe
    characters, non-zero trailing bits."""
    part = data.draw(st.sampled_from([0, 1]), label="part")
    canonical = base64.b64encode([iv, ct][part]).decode()
    variants = [
        canonical.rstrip("="),
        canonical + "=",
        canonical + "==",
        canonical[:4] + " " + canonical[4:],
        canonical + "\n",
        base64.urlsafe_b64encode([iv, ct][part]).decode(),
    ]
    if canonical.endswith("="):  # the last data character carries unused bits
        head, pad = canonical.rstrip("="), "=" * (len(canonical) - len(canonical.rstrip("=")))
        last = B64_CHARS.index(head[-1])
        spare = 0b1111 if pad == "==" else 0b11
        variants.append(head[:-1] + B64_CHARS[(last & ~spare) | spare] + pad)
    bad = data.draw(st.sampled_from(variants), label="variant")
    assume(bad != canonical)
    parts = [base64.b64encode(iv).decode(), base64.b64encode(ct).decode()]
    parts[part] = bad
    value = "enc:1:" + ".".join(parts)
    assert not is_ciphertext(value)
    with pytest.raises(MalformedCiphertextError):
        open_bytes(KEY, value)


@given(
    value=st.text(max_size=200) | st.from_regex(r"enc:1:[A-Za-z0-9+/=]{0,40}\.[A-Za-z0-9+/=]{0,60}")
)
def test_arbitrary_strings_raise_only_typed_errors(value: str) -> None:
    with contextlib.suppress(CryptoError):  # anything else fails the test
        decrypt_text(KEY, value)
