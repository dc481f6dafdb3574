"""Fixtures for persona tests: stores on temporary SQLite, persona builders, a loopback gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.serving import GatewayThread
from gateway.settings import GatewaySettings
from personas.config import PersonaConfig
from personas.gateway import local_minter
from personas.store import SqlPersonaStore
from planner.policy import PolicyMode
from toolkits.store import Store, open_store

MakePersona = Callable[..., PersonaConfig]


def persona_data(**overrides: Any) -> dict[str, Any]:
    """A valid persona as plain data, with overrides."""
    data: dict[str, Any] = {
        "id": "tess",
        "name": "Tess Tester",
        "archetype": "test persona",
        "system_prompt": "You are Tess, who tests the app carefully and reports what she finds.",
        "modules": {"todo": 3, "notes": 2},
        "cadence": "daily",
        "goals": ["add a to-do", "write a note"],
        "model": "scripted-persona",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_persona() -> MakePersona:
    """Build a validated PersonaConfig from overrides."""

    def make(**overrides: Any) -> PersonaConfig:
        return PersonaConfig.model_validate(persona_data(**overrides))

    return make


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
async def store(var_dir: Path) -> AsyncIterator[Store]:
    """The app store (SQLite under the test's var folder)."""
    opened = await open_store(f"sqlite:///{var_dir / 'mana.db'}")
    yield opened
    await opened.close()


@pytest.fixture
async def persona_store(store: Store) -> SqlPersonaStore:
    return await SqlPersonaStore(store.engine).create()


@pytest.fixture
def gateway_settings(var_dir: Path) -> GatewaySettings:
    """Gateway settings on the test's var folder, enforcing the policy."""
    return replace(
        GatewaySettings(),
        var_dir=var_dir,
        database_url=f"sqlite:///{var_dir / 'mana.db'}",
        policy_mode=PolicyMode.ENFORCE,
    )


@pytest.fixture
def gateway(gateway_settings: GatewaySettings, store: Store) -> Iterator[GatewayThread]:
    """A real gateway on a free loopback port, on the test's database (created by `store`)."""
    thread = GatewayThread(gateway_settings)
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def mint(gateway_settings: GatewaySettings) -> Callable[[str], str]:
    """Tokens from the gateway's local identity."""
    return local_minter(gateway_settings)
