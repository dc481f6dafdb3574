"""Fixtures of the console tests: one recorded demo transcript per session."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from tests.console.recording import record_demo


@pytest.fixture(scope="session")
def demo_transcript(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A transcript recorded by running the loop: parallel reads, a denial, a sub-agent."""
    path = tmp_path_factory.mktemp("transcripts") / "run-demo.jsonl"
    return anyio.run(record_demo, path)
