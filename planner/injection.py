"""Prompt-injection markers in free-text arguments, found in linear time on any input.

The markers are the seed's Python regexes, and a finding is exactly what they report. How
they are matched keeps every input linear (the seed's `\\{\\{.+\\}\\}` backtracked
quadratically on repeated `{{`, and `you are now .{0,40}` cost ~40 steps per repeat):

- The strings are joined once (last first, `\\n\\x00` between: no marker crosses it) and
  encoded to UTF-8 with ASCII letters lower-cased; each letter of an RE2 pattern also
  accepts the non-ASCII code points Python's `(?i)` equates with it (İ ı K ſ).
- The three markers made of letters, `.` and braces run in RE2 (google-re2: automata, a
  linear-time guarantee) over those bytes: the same matches as `re` there.
- The two `system` markers need Python's own `\\s` and `\\b`, so they stay on `re`, which is
  linear on them (each `\\s*` run follows one `<` or fence, and runs never overlap); they run
  only when the folded text holds `system` at all.

- Before any of that, one cheap test on the input's JSON: does it hold a hint every marker
  contains (`previous`, `you are now`, `system`, `{{`)? Most arguments do not.

The position of each marker's leftmost match names the text it is in; as in the seed, the
report is the first marker (in order) of the last text that holds any.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate, compress
from typing import Any

import re2
from pydantic_core import PydanticSerializationError, to_json

MIN_SCANNED_LENGTH = 16
MAX_SCANNED_DEPTH = 254
"""As deep as pydantic's JSON goes: no model or MCP client can send deeper arguments."""
TOO_DEEP = f"nesting deeper than {MAX_SCANNED_DEPTH} levels"
"""The flag for input no JSON parser produces (only in-process callers can build it)."""

INJECTION_MARKERS: tuple[str, ...] = (
    r"(?i:ignore (all |the )?previous (instructions|messages))",
    r"(?i:you are now .{0,40}(assistant|gpt|claude|gemini))",
    r"(?i:<\s*system\b)",
    r"\{\{.+\}\}",
    r"(?i:```\s*system\b)",
)
"""The seed's patterns: what a finding reports, and the reference the matchers agree with."""

FOLD_EXTRAS: dict[str, str] = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}
"""Non-ASCII code points that Python's `(?i)` matches to an ASCII letter (İ ı K ſ)."""

SEPARATOR = "\n\x00"
"""Between joined texts: `.` stops at the newline, `\\s*` at the NUL, so no match crosses."""


def _folded(pattern: str) -> Any:
    """An RE2 pattern over ASCII-lowered text: each letter with its non-ASCII equals too."""
    for letter, extras in FOLD_EXTRAS.items():
        pattern = pattern.replace(letter, f"[{letter}{extras}]")
    return re2.compile(pattern)


HINTS = ("previous", "you are now", "system", "{{")
"""Every marker's match contains one of these: the test on the input's JSON."""
_HINTS = _folded("|".join(re2.escape(hint) for hint in HINTS))
HINT_ANCHORS = (b"prev", b"you are now", b"tem", b"{{")
"""A piece of each hint that folding leaves alone (no i, k or s): a hint can only be where its
piece is. On the short arguments most calls have, four substring tests cost a tenth of one
RE2 call; on longer input they cost more than they save."""
ANCHORED_BELOW = 256
"""JSON shorter than this many bytes is tested for the anchors before RE2 runs."""
_RE2_MARKERS = {
    0: "ignore (?:all |the )?previous (?:instructions|messages)",
    1: "you are now .{0,40}(?:assistant|gpt|claude|gemini)",
    3: r"\{\{.+\}\}",
}
_CANDIDATES = _folded("|".join([*_RE2_MARKERS.values(), "system"]))
"""One pass every text holding a marker passes: most texts stop there."""
_RE2_COMPILED = {i: _folded(pattern) for i, pattern in _RE2_MARKERS.items()}
_SYSTEM = _folded("system")
_RE_MARKERS = {
    2: re.compile(r"(?i:<\s*+system\b)"),
    4: re.compile(r"(?i:```\s*+system\b)"),
}
"""The seed's two `system` markers with `\\s*` made possessive: the same matches (the letter
after the run is never whitespace, so giving back whitespace cannot help), no backtracking."""

Matcher = Callable[[str, bytes], int | None]
"""(joined text, its folded UTF-8) -> the character offset of the leftmost match, or None."""


def fold(text: str) -> bytes:
    """UTF-8 of `text`, ASCII letters lower-cased (the RE2 patterns add İ ı K ſ themselves).

    Lone surrogates become `?`, so every code point stays one code point.
    """
    return text.encode("utf-8", "replace").lower()


_WALKED = frozenset({str, dict, list, tuple})
_FILTER_FROM = 8
"""Containers with this many items are filtered in C before they are walked in Python."""


def long_strings(
    value: Any, min_length: int = MIN_SCANNED_LENGTH, *, acyclic: bool = False
) -> list[str]:
    """Every string of `min_length`+ characters nested in a JSON-like value (keys excluded).

    Iterative, so any depth is fine. Unless the caller knows the value is `acyclic` (it
    serialized as JSON), each container is visited once, so a cycle ends the walk there.
    """
    found: list[str] = []
    seen: set[int] | None = None if acyclic else set()
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            if len(item) >= min_length:
                found.append(item)
        elif kind is dict or kind is list or kind is tuple:
            if seen is not None:
                if id(item) in seen:
                    continue
                seen.add(id(item))
            kids = item.values() if kind is dict else item
            if len(kids) < _FILTER_FROM:
                push(kids)
            else:  # C-level filters: numbers, None and empty containers hold nothing to scan
                push(filter(None, compress(kids, map(_WALKED.__contains__, map(type, kids)))))
    return found


def _re2_matcher(regex: Any) -> Matcher:
    def leftmost(_joined: str, data: bytes) -> int | None:
        found = regex.search(data)
        if found is None:
            return None
        return len(data[: found.start()].decode("utf-8"))

    return leftmost


def _re_matcher(regex: re.Pattern[str]) -> Matcher:
    def leftmost(joined: str, data: bytes) -> int | None:
        if _SYSTEM.search(data) is None:
            return None
        found = regex.search(joined)
        return None if found is None else found.start()

    return leftmost


_MATCHERS: tuple[Matcher, ...] = tuple(
    _re2_matcher(_RE2_COMPILED[i]) if i in _RE2_COMPILED else _re_matcher(_RE_MARKERS[i])
    for i in range(len(INJECTION_MARKERS))
)


def find_marker(texts: Sequence[str]) -> str | None:
    """The seed's finding for these texts: the first marker of the last text holding any."""
    if not texts:
        return None
    backwards = list(reversed(texts))
    joined = SEPARATOR.join(backwards)
    data = fold(joined)
    if _CANDIDATES.search(data) is None:
        return None
    hits = [(at, i) for i, match in enumerate(_MATCHERS) if (at := match(joined, data)) is not None]
    if not hits:
        return None
    ends = list(accumulate(len(text) + len(SEPARATOR) for text in backwards))
    _, marker = min((bisect_right(ends, at), i) for at, i in hits)
    return INJECTION_MARKERS[marker]


def find_injection(raw_input: Any) -> str | None:
    """The first injection marker found in a free-text argument, as its pattern.

    First a cheap test on the input's JSON (Rust-serialized: every string verbatim, keys and
    short ones too; the hints are ASCII letters, spaces and braces, which JSON never escapes).
    """
    data = _json_of(raw_input)
    if data is None:
        if nested_deeper_than(raw_input, MAX_SCANNED_DEPTH):
            return TOO_DEEP
        return find_marker(long_strings(raw_input, acyclic=_is_acyclic(raw_input)))
    folded = data.lower()
    if len(folded) < ANCHORED_BELOW and not _may_hold_hint(folded):
        return None
    if _HINTS.search(folded) is None:
        return None
    return find_marker(long_strings(raw_input, acyclic=True))


def _may_hold_hint(folded: bytes) -> bool:
    """False when no hint can be in the folded JSON: none of their anchors is."""
    a, b, c, d = HINT_ANCHORS
    return a in folded or b in folded or c in folded or d in folded


def nested_deeper_than(value: Any, limit: int) -> bool:
    """True when containers nest more than `limit` levels; each container is visited once, so
    the walk stops at `limit` levels down and ends on cycles."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is not dict and kind is not list and kind is not tuple:
            continue
        if depth >= limit:
            return True
        if id(item) in seen:
            continue
        seen.add(id(item))
        kids = item.values() if kind is dict else item
        stack.extend((kid, depth + 1) for kid in kids if type(kid) in _WALKED)
    return False


def _json_of(raw_input: Any) -> bytes | None:
    """The input as JSON, or None when it is cyclic, over 254 levels deep or has surrogates."""
    try:
        return to_json(raw_input, fallback=repr, bytes_mode="base64")
    except (PydanticSerializationError, RecursionError):
        return None


def _is_acyclic(raw_input: Any) -> bool:
    """True when the C JSON encoder (which checks for cycles) gets through the input."""
    try:
        json.dumps(raw_input, skipkeys=True, default=repr)
    except (ValueError, RecursionError, TypeError):
        return False
    return True
