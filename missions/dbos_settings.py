"""How DBOS talks to its system database: the engine settings that make a step cheap.

Every durable step costs DBOS two system-database transactions (read the recorded output,
then write it), so what a commit costs is what a step costs. By default a commit is durable
against the process dying, not against the machine losing power; `$MANA_DBOS_SYNC_COMMIT=1`
makes every commit wait for the disk again (the database's own defaults).

- **SQLite: WAL and `synchronous=NORMAL`.** SQLite's defaults (a rollback journal,
  `synchronous=FULL`) fsync the journal and the database on every commit: about 3 ms a step
  on this VM's disk. In WAL mode with `synchronous=NORMAL` a commit appends to the WAL with no
  fsync; the WAL is fsynced when it is checkpointed into the database.
- **PostgreSQL: `synchronous_commit=off`** for DBOS's own connections only: the server
  acknowledges a commit before its WAL record is flushed (the WAL writer flushes it within
  about 3 x `wal_writer_delay`, 600 ms by default).

What that keeps: a committed step survives the worker being killed (SIGKILL, OOM, a crash):
SQLite's WAL pages are in the kernel's page cache and the next open replays them; PostgreSQL
has the commit in its own memory whatever the client does. What it gives up: if the machine
(SQLite) or the database server (PostgreSQL) crashes or loses power, the last commits may be
lost, never the database's consistency: both replay an unbroken prefix of commits. A lost
step record means the run resumes from an earlier step, the same case as the step in flight
at a crash: it runs again, and write tools are idempotent on their call id.

The SQLite journal mode is a property of the database file, so every other connection to it
(heartbeats, the schedules, `DBOSClient` in the CLI) runs in WAL too; WAL needs a local file
system, which `./var/` is.

DBOS's default pool also pings each connection (a `SELECT 1` round trip) before every
transaction: two extra round trips a step. Without it, a connection the server dropped fails
its first statement instead; DBOS retries every system-database call on a connection error
(`db_retry`), and SQLAlchemy discards the dead connections, so the retry runs on a fresh one.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

SYNC_COMMIT_ENV = "MANA_DBOS_SYNC_COMMIT"
"""Set to 1 to make every system-database commit wait for the disk (power-loss durability)."""
DBOS_APPLICATION_NAME = "dbos_transact"
"""What DBOS names its PostgreSQL connections (kept when we set connect_args)."""


def sync_commit_from_env() -> bool:
    """Whether $MANA_DBOS_SYNC_COMMIT asks for commits that wait for the disk."""
    return os.environ.get(SYNC_COMMIT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


class WalConnection(sqlite3.Connection):
    """A sqlite3 connection in WAL mode with `synchronous=NORMAL` (see the module docstring)."""

    synchronous = "NORMAL"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA journal_mode=WAL")
        self.execute(f"PRAGMA synchronous={self.synchronous}")


class WalSyncConnection(WalConnection):
    """WAL mode, every commit fsynced (`synchronous=FULL`)."""

    synchronous = "FULL"


def system_db_engine_kwargs(url: str, *, sync_commit: bool = False) -> dict[str, Any]:
    """SQLAlchemy engine options for DBOS's system database at `url` (DBOS's `db_engine_kwargs`).

    DBOS keeps its own pool size, timeouts and SQLite connect hook; these options only add to
    them. `sync_commit` makes each commit wait for the disk, as the databases do by default.
    """
    options: dict[str, Any] = {"pool_pre_ping": False}
    if url.startswith("sqlite"):
        options["connect_args"] = {"factory": WalSyncConnection if sync_commit else WalConnection}
    elif not sync_commit:
        options["connect_args"] = {
            "application_name": DBOS_APPLICATION_NAME,
            "options": "-c synchronous_commit=off",
        }
    return options
