"""The mission loader raises only MissionConfigError, whatever the file holds."""

from __future__ import annotations

from typing import Any

import pytest

from missions.config import LimitsConfig, MissionConfig, PolicyConfig, SubAgentConfig, load_mission
from missions.errors import MissionConfigError
from tests.toml_documents import loader_properties

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


def survives_a_round_trip(cfg: MissionConfig) -> None:
    """What the loader accepts is rebuilt unchanged from its dump, as a durable run does."""
    assert MissionConfig.model_validate(cfg.model_dump(mode="json")) == cfg


test_arbitrary_bytes, test_mutated_good_files, test_arbitrary_toml_documents = loader_properties(
    load_mission,
    MissionConfigError,
    GOOD,
    list(MissionConfig.model_fields),
    TABLES,
    survives_a_round_trip,
)
