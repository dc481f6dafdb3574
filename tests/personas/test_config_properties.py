"""The persona loader raises only PersonaConfigError, whatever the file holds."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personas.config import PersonaConfig, SharedSpace, ToolNudge, load_persona
from personas.errors import PersonaConfigError
from tests.toml_documents import document, mutated, to_toml

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
    "modules": ["spaces", "todo", "habits", "notes", "journal", "me"],
    "tools": list(ToolNudge.model_fields),
    "spaces": list(SharedSpace.model_fields),
}
FIELDS = list(PersonaConfig.model_fields)
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_bytes(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.toml"
        path.write_bytes(raw)
        try:
            load_persona(path)
        except PersonaConfigError as exc:
            assert str(exc).startswith(str(path)), exc


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
    tomllib.loads(text)
    load_bytes(text.encode())
