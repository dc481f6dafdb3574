"""Shared pytest settings."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

# Property tests (marker `property`): a few examples in `make test`, many in `make fuzz`, which
# selects the `fuzz` profile through HYPOTHESIS_PROFILE.
settings.register_profile(
    "quick", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))

os.environ.setdefault("POLICY_MODE", "log-only")

pytest_plugins = ["planner.testing.pytest_plugin"]

# DBOS adds a stderr handler to its logger on first launch, bound to whatever sys.stderr is
# then; CLI tests swap (and close) sys.stderr, so give it the process's real stderr up front.
_dbos_log = logging.getLogger("dbos")
if not _dbos_log.handlers:
    _dbos_log.addHandler(logging.StreamHandler(sys.__stderr__))
    _dbos_log.propagate = False


def pytest_configure(config: pytest.Config) -> None:
    """Register the project's markers."""
    config.addinivalue_line(
        "markers", "property: a hypothesis property test (`make fuzz` runs it with many examples)"
    )


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """Each test starts and ends with structlog's defaults (CLI tests configure it)."""
    yield
    structlog.reset_defaults()
