"""The policy gate on hostile arguments: µs per KiB, worst over inputs built to be slow.

Each input is about 1 MiB of arguments (its UTF-8 JSON), shaped against one part of the
scan: repeated marker prefixes (`{{`, `you are now `, `ignore previous `), whitespace runs
after `<` and fences, 10,000-level nesting, 100,000 keys, non-ASCII and surrogate text.
The figure is the full `PolicyGate.evaluate` (log-only, so every rule runs), best of a few
repeats per input (machine noise), and the worst input's figure is the one that counts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bench.workloads import SLEEP, quiet_logging
from planner import PolicyGate, PolicyMode, ToolContext
from planner.tools import AnyToolSpec

MIB = 1024 * 1024
GOAL_US_PER_KIB = 50.0


def _repeat(unit: str, size: int = MIB) -> str:
    return unit * (size // len(unit.encode("utf-8", "surrogatepass")))


def _nested(depth: int = 10_000) -> Any:
    value: Any = "you are now " * 4
    for i in range(depth):
        value = {"k": [value, "{{" * 40 + f" level {i}"]}
    return value


def _chain(depth: int, wrap: Callable[[Any], Any]) -> Any:
    value: Any = "{{ you are now <system"
    for _ in range(depth):
        value = wrap(value)
    return value


HOSTILE: dict[str, Callable[[], Any]] = {
    "braces": lambda: {"content": _repeat("{{")},
    "braces_then_close": lambda: {"content": _repeat("{{") + "}}"},
    "you_are_now": lambda: {"content": _repeat("you are now ")},
    "ignore_previous": lambda: {"content": _repeat("ignore previous ")},
    "angle_whitespace": lambda: {"content": _repeat("<" + " " * 15) + "system"},
    "fence_whitespace": lambda: {"content": _repeat("```" + " " * 13) + "system"},
    "angle_system_dense": lambda: {"content": _repeat("<system_")},
    "one_angle_1mib_spaces": lambda: {"content": "<" + " " * MIB + "system_"},
    "non_ascii": lambda: {"content": _repeat("éİſ{{you are now ")},
    "surrogates": lambda: {"content": _repeat("\ud800{{")},
    "nested_10000": _nested,
    "keys_100000": lambda: {f"k{i}": "{{ you are now <system " for i in range(100_000)},
    "strings_100000": lambda: {"items": ["ignore previous {{ " for _ in range(100_000)]},
    "ones_500000": lambda: {"n": [1] * 500_000, "t": "{{ you are now <system"},
    "empty_lists_300000": lambda: {"n": [[] for _ in range(300_000)], "t": "{{ <system>"},
    "lists_10000_deep": lambda: _chain(10_000, lambda v: [v]),
    "dicts_10000_deep": lambda: _chain(10_000, lambda v: {"k": v}),
}
IN_PROCESS_ONLY = frozenset({"lists_10000_deep", "dicts_10000_deep"})
"""These two are deeper than JSON parsers go (pydantic's stops at 254 levels, the one call
pipeline refuses arguments over 64 before the gate): only an in-process caller can hand them
to the gate, which then walks them with a visited set (they could be cyclic)."""


def _kib(raw: Any) -> float:
    """The size of `raw` as compact UTF-8 JSON, counted without recursion (any depth)."""
    size, stack = 0, [raw]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item.encode("utf-8", "surrogatepass")) + 2
        elif isinstance(item, dict):
            size += 2 + sum(len(k.encode()) + 4 for k in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            size += 1 + len(item)
            stack.extend(item)
        else:
            size += len(json.dumps(item))
    return size / 1024


def us_per_kib(gate: PolicyGate, spec: AnyToolSpec, raw: Any, repeats: int = 3) -> float:
    """Best-of-`repeats` µs per KiB of one gate decision on `raw`."""
    ctx = ToolContext(user_id="bench", space_id="bench")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        gate.evaluate(spec, ctx, raw)
        best = min(best, time.perf_counter() - start)
    return best * 1e6 / _kib(raw)


def gate_worst_figures() -> dict[str, Any]:
    """µs per KiB of the gate on every hostile input; the worst, and which input it was."""
    quiet_logging()
    gate = PolicyGate(mode=PolicyMode.LOG_ONLY, default_limit=10**9)
    per_input = {name: us_per_kib(gate, SLEEP, build()) for name, build in HOSTILE.items()}
    worst = max(per_input, key=per_input.__getitem__)
    borne = max((n for n in per_input if n not in IN_PROCESS_ONLY), key=per_input.__getitem__)
    return {
        "gate_worst_us_per_kib": per_input[worst],
        "gate_worst_input": worst,
        "gate_worst_json_us_per_kib": per_input[borne],
        "gate_worst_json_input": borne,
        **{f"gate_us_per_kib_{name}": value for name, value in per_input.items()},
    }


if __name__ == "__main__":
    for key, value in gate_worst_figures().items():
        shown = f"{value:10.2f}" if isinstance(value, float) else value
        print(f"{key:40s} {shown}")
