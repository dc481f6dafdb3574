"""Hypothesis strategies for config-file fuzzing: TOML documents over a config's own field names
(and stray ones), written out by a small TOML writer, and byte-level mutations of a good file."""

from __future__ import annotations

import math
import tempfile
import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEY = st.text(min_size=1, max_size=12)
SCALAR = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.dates()
    | st.sampled_from(["scripted:s.json", "openai:x", "*", "todo.*", "0 99 * * *", "15m", "0m"])
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY, inner, max_size=4),
    max_leaves=12,
)


def table(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A table whose keys are mostly `fields` and whose values are any TOML values."""
    return st.dictionaries(st.sampled_from(fields) | KEY, VALUE, max_size=6)


def document(
    base: dict[str, Any], fields: list[str], tables: dict[str, list[str]]
) -> st.SearchStrategy[dict[str, Any]]:
    """`base` with keys dropped, overridden by any values, and sub-tables of `tables`' fields."""
    subtables = st.fixed_dictionaries(
        {},
        optional={
            name: table(keys) | st.lists(table(keys), max_size=2) for name, keys in tables.items()
        },
    )

    def build(drop: set[str], over: dict[str, Any], subs: dict[str, Any]) -> dict[str, Any]:
        doc = {k: v for k, v in base.items() if k not in drop}
        doc.update(over)
        doc.update(subs)
        return doc

    return st.builds(build, st.sets(st.sampled_from(sorted(base))), table(fields), subtables)


def mutated(good: bytes) -> st.SearchStrategy[bytes]:
    """`good` with a few bytes replaced, inserted or cut out."""

    def apply(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
        out = bytearray(data)
        for kind, at, chunk in edits:
            i = at % (len(out) + 1)
            if kind == 0:
                out[i : i + len(chunk)] = chunk
            elif kind == 1:
                out[i:i] = chunk
            else:
                del out[i : i + len(chunk)]
        return bytes(out)

    edit = st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.binary(min_size=1, max_size=4))
    return st.builds(apply, st.just(good), st.lists(edit, min_size=1, max_size=4))


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_string(k)} = {_value(v)}" for k, v in value.items()) + "}"


def to_toml(doc: dict[str, Any]) -> str:
    """A TOML document holding `doc`: one `key = value` line per key, inline tables below."""
    return "".join(f"{_string(k)} = {_value(v)}\n" for k, v in doc.items())


Test = Callable[[], None]
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def loader_properties(
    load: Callable[[Path], Any],
    error: type[Exception],
    good: dict[str, Any],
    fields: list[str],
    tables: dict[str, list[str]],
    accepted: Callable[[Any], None] = lambda _cfg: None,
) -> tuple[Test, Test, Test]:
    """Three property tests of a config loader: for arbitrary bytes, mutations of a good file
    and TOML documents over `fields` (and `tables`' sub-fields), it returns a config (that
    `accepted` then checks) or raises `error` naming the file, and never anything else."""

    def load_bytes(raw: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "c.toml"
            path.write_bytes(raw)
            try:
                cfg = load(path)
            except error as exc:
                assert str(exc).startswith(str(path)), exc
                return
            accepted(cfg)

    @FUZZ
    @given(st.binary(max_size=512))
    def arbitrary_bytes(raw: bytes) -> None:
        load_bytes(raw)

    @FUZZ
    @given(mutated(to_toml(good).encode()))
    def mutated_good_files(raw: bytes) -> None:
        load_bytes(raw)

    @FUZZ
    @given(document(good, fields, tables))
    def toml_documents(doc: dict[str, Any]) -> None:
        text = to_toml(doc)
        tomllib.loads(text)  # the writer writes TOML: the loader sees a parsed document
        load_bytes(text.encode())

    return arbitrary_bytes, mutated_good_files, toml_documents
