"""What a mission command needs open: the app store, key vault, run store and tools."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from missions.demo_tools import demo_registry
from missions.store import SqlRunStore
from planner import ToolRegistry
from toolkits import (
    DATABASE_URL_ENV,
    VAR_DIR_ENV,
    KeyVault,
    LocalKeyVault,
    Store,
    default_registry,
    open_store,
)


@dataclass(frozen=True)
class AppSettings:
    """Where things live: the database URL (None = SQLite under var/) and the var folder."""

    database_url: str | None = None
    var_dir: Path = Path("var")
    runs_dir: Path = Path("runs")

    @classmethod
    def from_env(cls, runs_dir: Path = Path("runs")) -> AppSettings:
        """Settings from MANA_DATABASE_URL and MANA_VAR_DIR (the CLI calls this)."""
        return cls(
            database_url=os.environ.get(DATABASE_URL_ENV) or None,
            var_dir=Path(os.environ.get(VAR_DIR_ENV) or "var"),
            runs_dir=runs_dir,
        )

    @property
    def store_url(self) -> str:
        """The app database URL: MANA_DATABASE_URL, else SQLite at var/mana.db."""
        return self.database_url or f"sqlite:///{self.var_dir / 'mana.db'}"


@dataclass
class App:
    """Open handles for one command."""

    settings: AppSettings
    store: Store
    vault: KeyVault
    runs: SqlRunStore
    tools: ToolRegistry = field(default_factory=ToolRegistry)


def builtin_tools(store: Store, vault: KeyVault, var_dir: Path) -> ToolRegistry:
    """Every tool a mission can name without tool modules: the app's and the demo's."""
    return default_registry(store, vault, media_dir=var_dir / "media").merged(demo_registry())


def tool_catalog(var_dir: Path = Path("var")) -> ToolRegistry:
    """The built-in tools for listing and checking; their store is never opened."""
    store = Store(create_async_engine("sqlite+aiosqlite://"))
    return builtin_tools(store, LocalKeyVault(var_dir / "keystore.json"), var_dir)


@asynccontextmanager
async def open_app(settings: AppSettings) -> AsyncIterator[App]:
    """Open the store (migrating it), the key vault and the run store; close them after."""
    store = await open_store(settings.store_url)
    try:
        vault = LocalKeyVault(settings.var_dir / "keystore.json")
        runs = await SqlRunStore(store.engine).create()
        yield App(settings, store, vault, runs, builtin_tools(store, vault, settings.var_dir))
    finally:
        await store.close()
