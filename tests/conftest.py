"""Shared pytest settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import structlog

os.environ.setdefault("POLICY_MODE", "log-only")


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """Each test starts and ends with structlog's defaults (CLI tests configure it)."""
    yield
    structlog.reset_defaults()
