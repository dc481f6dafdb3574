"""Shared pytest settings."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator

import pytest
import structlog

os.environ.setdefault("POLICY_MODE", "log-only")

pytest_plugins = ["tests.fakes.fixtures"]

# DBOS adds a stderr handler to its logger on first launch, bound to whatever sys.stderr is
# then; CLI tests swap (and close) sys.stderr, so give it the process's real stderr up front.
_dbos_log = logging.getLogger("dbos")
if not _dbos_log.handlers:
    _dbos_log.addHandler(logging.StreamHandler(sys.__stderr__))
    _dbos_log.propagate = False


def pytest_configure(config: pytest.Config) -> None:
    """Markers of this suite."""
    config.addinivalue_line("markers", "property: hypothesis property-based test")


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """Each test starts and ends with structlog's defaults (CLI tests configure it)."""
    yield
    structlog.reset_defaults()
