"""The mission loader raises only MissionConfigError, whatever the file holds."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missions.config import LimitsConfig, MissionConfig, PolicyConfig, SubAgentConfig, load_mission
from missions.errors import MissionConfigError
from tests.toml_documents import document, mutated, to_toml

pytestmark = pytest.mark.property
GOOD: dict[str, Any] = {
    "id": "fuzz",
    "title": "t",
    "objective": "o",
    "model": "scripted:steps.json",
    "user_id": "u",
    "tools": ["todo.*"],
    "schedule": "0 18 * * 5",
}
TABLES = {
    "policy": list(PolicyConfig.model_fields),
    "limits": list(LimitsConfig.model_fields),
    "subagents": list(SubAgentConfig.model_fields),
    "tool_sources": ["url", "token_env", "space", "prefix", "command", "env", "cwd"],
    "reminders": ["token_budget", "retry_loop", "last_round", "policy_flags", "compacted"],
}
FIELDS = list(MissionConfig.model_fields)
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_bytes(raw: bytes) -> MissionConfig | None:
    """Load `raw` as a mission file; None when the loader refused it with MissionConfigError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.toml"
        path.write_bytes(raw)
        try:
            return load_mission(path)
        except MissionConfigError as exc:
            assert str(exc).startswith(str(path)), exc
            return None


@FUZZ
@given(st.binary(max_size=512))
def test_arbitrary_bytes(raw: bytes) -> None:
    load_bytes(raw)


@FUZZ
@given(mutated(to_toml(GOOD).encode()))
def test_mutated_good_files(raw: bytes) -> None:
    load_bytes(raw)


@FUZZ
@given(document(GOOD, FIELDS, TABLES))
def test_arbitrary_toml_documents(doc: dict[str, Any]) -> None:
    text = to_toml(doc)
    tomllib.loads(text)  # the writer writes TOML: the loader sees a parsed document
    cfg = load_bytes(text.encode())
    if cfg is not None:  # what the loader accepts survives a dump and a reload
        assert MissionConfig.model_validate(cfg.model_dump(mode="json")) == cfg
