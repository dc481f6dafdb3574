"""Checks that a value is plain JSON data a transcript can hold, without recursion."""

from __future__ import annotations

import math
from typing import Any

MAX_JSON_DEPTH = 64
"""Deepest nesting of tool arguments and tool results the engine accepts."""

_SCALARS = (bool, int, type(None))


def json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why `value` is not plain JSON data within `max_depth` levels, or None when it is.

    Plain JSON data is dicts with string keys, lists and tuples, strings, booleans, integers,
    finite floats and None. The walk is iterative (no recursion limit) and visits each
    container once, so shared sub-values cost nothing extra and a cycle is reported as one.
    """
    if type(value) is dict and _flat_and_plain(value):
        return None
    stack: list[tuple[Any, int, bool]] = [(value, 1, False)]
    on_path: set[int] = set()
    checked: set[int] = set()
    while stack:
        item, depth, leaving = stack.pop()
        if leaving:
            on_path.discard(id(item))
            checked.add(id(item))
            continue
        if isinstance(item, str):
            if not _is_utf8(item):
                return "a string holds a lone surrogate (not UTF-8 text)"
            continue
        if isinstance(item, _SCALARS):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return f"{item!r} is not a JSON number"
            continue
        if not isinstance(item, dict | list | tuple):
            return f"a {type(item).__name__} is not JSON data"
        ident = id(item)
        if ident in on_path:
            return "a value contains itself (a cycle)"
        if ident in checked:
            continue
        if depth > max_depth:
            return f"nested deeper than {max_depth} levels"
        on_path.add(ident)
        stack.append((item, depth, True))
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    return f"a {type(key).__name__} key is not a JSON object key"
                if not _is_utf8(key):
                    return "a key holds a lone surrogate (not UTF-8 text)"
                stack.append((child, depth + 1, False))
        else:
            stack.extend((child, depth + 1, False) for child in item)
    return None


def _is_utf8(text: str) -> bool:
    """False for a string that UTF-8 cannot encode (it holds a lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _flat_and_plain(value: dict[Any, Any]) -> bool:
    """The common case, decided fast: ASCII keys, scalar values, finite floats."""
    for key, item in value.items():
        if type(key) is not str or not key.isascii():
            return False
        kind = type(item)
        if kind is str:
            if not item.isascii():
                return False
        elif kind is float:
            if item - item != 0:  # NaN and infinities
                return False
        elif kind is not int and kind is not bool and item is not None:
            return False
    return True
