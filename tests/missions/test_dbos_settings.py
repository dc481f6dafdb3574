"""The system-database settings the durable engine gives DBOS: cheap commits, chosen on purpose."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from missions.dbos_settings import SYNC_COMMIT_ENV, sync_commit_from_env, system_db_engine_kwargs
from missions.durable import DBOSEngine
from missions.system_db import sync_engine, system_database_url
from planner import ToolRegistry


def sqlite_pragmas(url: str, *, sync_commit: bool | None) -> tuple[str, int]:
    engine = sa.create_engine(url, **system_db_engine_kwargs(url, sync_commit=sync_commit))
    try:
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
    finally:
        engine.dispose()
    return str(mode), int(synchronous)


def test_sqlite_runs_in_wal_with_normal_sync_unless_sync_commit_is_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    assert sqlite_pragmas(url, sync_commit=None) == ("wal", 1)  # NORMAL
    assert sqlite_pragmas(url, sync_commit=False) == ("wal", 1)
    assert sqlite_pragmas(url, sync_commit=True) == ("wal", 2)  # FULL


def test_no_pre_ping_and_postgres_keeps_the_dbos_connection_name() -> None:
    sqlite = system_db_engine_kwargs("sqlite:///x.sqlite")
    pg = system_db_engine_kwargs("postgresql://u:p@localhost/db", sync_commit=False)
    assert sqlite["pool_pre_ping"] is False and pg["pool_pre_ping"] is False
    assert pg["connect_args"]["application_name"] == "dbos_transact"
    assert "connect_args" not in system_db_engine_kwargs("postgresql://h/db", sync_commit=True)
    assert "connect_args" not in system_db_engine_kwargs("postgresql://h/db")


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("true", True), ("0", False), ("off", False), ("", None)]
)
def test_sync_commit_env(
    value: str, expected: bool | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SYNC_COMMIT_ENV, value)
    assert sync_commit_from_env() is expected
    assert DBOSEngine.with_tools(ToolRegistry([])).sync_commit is expected


def test_the_engine_hands_dbos_these_settings(tmp_path: Path) -> None:
    engine = DBOSEngine.with_tools(ToolRegistry([]), var_dir=tmp_path, sync_commit=True)
    config = engine.config()
    assert config["system_database_url"] == system_database_url(None, tmp_path)
    assert config.get("db_engine_kwargs") == system_db_engine_kwargs(engine.url, sync_commit=True)


@pytest.fixture
def launched(tmp_path: Path) -> Iterator[DBOSEngine]:
    engine = DBOSEngine.with_tools(ToolRegistry([]), db_url=f"sqlite:///{tmp_path / 'sys.sqlite'}")
    engine.launch()
    yield engine
    engine.shutdown()


def test_a_launched_engine_leaves_its_sqlite_file_in_wal(
    launched: DBOSEngine, tmp_path: Path
) -> None:
    with sqlite3.connect(tmp_path / "sys.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


PG_URL = os.environ.get("MANA_TEST_PG_URL")


@pytest.mark.skipif(not PG_URL, reason="needs MANA_TEST_PG_URL")
@pytest.mark.parametrize(("sync_commit", "expected"), [(None, "on"), (False, "off"), (True, "on")])
def test_postgres_keeps_synchronous_commits_unless_asked_not_to(
    sync_commit: bool | None, expected: str
) -> None:
    assert PG_URL is not None
    url = system_database_url(PG_URL)
    engine = sa.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        **system_db_engine_kwargs(url, sync_commit=sync_commit),
    )
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == expected
    finally:
        engine.dispose()


def test_the_heartbeat_engine_on_sqlite_commits_like_dbos(tmp_path: Path) -> None:
    engine = sync_engine(f"sqlite:///{tmp_path / 'sys.sqlite'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1
    finally:
        engine.dispose()
