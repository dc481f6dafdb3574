"""The persona loader raises only PersonaConfigError, whatever the file holds."""

from __future__ import annotations

from typing import Any

import pytest

from personas.config import MODULES, PersonaConfig, SharedSpace, ToolNudge, load_persona
from personas.errors import PersonaConfigError
from tests.toml_documents import loader_properties

pytestmark = pytest.mark.property
GOOD: dict[str, Any] = {
    "id": "fuzz",
    "name": "Fuzz",
    "archetype": "tester",
    "system_prompt": "You are Fuzz, who tries every odd input the app might get.",
    "cadence": "daily",
    "goals": ["test"],
    "model": "scripted-persona:3",
    "modules": {"todo": 1},
    "space": "club:x",
    "spaces": [{"id": "club:x", "type": "club", "name": "X"}],
}
TABLES = {
    "modules": list(MODULES),
    "tools": list(ToolNudge.model_fields),
    "spaces": list(SharedSpace.model_fields),
}

test_arbitrary_bytes, test_mutated_good_files, test_arbitrary_toml_documents = loader_properties(
    load_persona, PersonaConfigError, GOOD, list(PersonaConfig.model_fields), TABLES
)
