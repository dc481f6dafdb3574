"""Polling helpers for tests that wait on other processes or background threads."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], object], timeout: float, poll_s: float = 0.05) -> bool:
    """True as soon as `predicate()` is truthy; False when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll_s)
    return False
