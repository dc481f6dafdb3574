"""Where the DBOS system database is, and who this process is in it.

The system database is SQLite under `./var/` by default and PostgreSQL when
`MANA_DATABASE_URL` is set; the code is the same on one machine or many.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from missions.dbos_settings import WalConnection
from missions.errors import DatabaseUrlError
from toolkits import DATABASE_URL_ENV

if TYPE_CHECKING:
    from dbos import DBOSClient

APP_NAME = "mana-planner"
"""The DBOS application of mission workers: their schedules, queue and recoveries."""
MISSION_QUEUE = "mana-missions"
EXECUTOR_ENV = "MANA_EXECUTOR_ID"
DBOS_LOG_ENV = "MANA_DBOS_LOG_LEVEL"
DEFAULT_VAR_DIR = Path("var")
SQLITE_FILE = "mana-planner.sqlite"


def system_database_url(url: str | None = None, var_dir: Path = DEFAULT_VAR_DIR) -> str:
    """The DBOS system database: `url`, else $MANA_DATABASE_URL, else SQLite under `var_dir`.

    SQLAlchemy async driver names are dropped (`postgresql+asyncpg://` -> `postgresql://`):
    DBOS picks its own driver.
    """
    chosen = url or os.environ.get(DATABASE_URL_ENV) or ""
    if not chosen:
        var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{var_dir / SQLITE_FILE}"
    scheme, sep, rest = chosen.partition("://")
    if not sep:
        raise DatabaseUrlError(
            f"database url {safe_url(chosen)!r} has no scheme (postgresql://... or sqlite:///...)"
        )
    base = scheme.split("+", 1)[0]
    if base == "postgres":
        base = "postgresql"
    if base == "sqlite":
        path = rest.removeprefix("/")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return f"{base}://{rest}"


def executor_id() -> str:
    """This worker's DBOS executor id: $MANA_EXECUTOR_ID, else the host name.

    A worker recovers, on start, the pending runs of its own executor id, so two workers sharing
    a PostgreSQL database must not share one; a restart on the same host keeps it.
    """
    return os.environ.get(EXECUTOR_ENV) or socket.gethostname() or "local"


def safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def client(db_url: str, app_name: str = APP_NAME) -> DBOSClient:
    """A client on the system database that raises rather than waits on a lost connection."""
    from dbos import DBOSClient  # only commands that talk to DBOS pay for importing it

    return DBOSClient(
        system_database_url=db_url, application_name=app_name, retry_connection_errors=False
    )


def sync_engine(db_url: str) -> sa.Engine:
    """A small synchronous SQLAlchemy engine on the system database (psycopg 3 on PostgreSQL)."""
    url = db_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        return sa.create_engine(url, connect_args={"timeout": 30, "factory": WalConnection})
    return sa.create_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True)
