"""How DBOS talks to its system database: the engine settings that make a step cheap.

Every durable step costs DBOS two system-database transactions (read the recorded output,
then write it), so what a commit costs is what a step costs. By default a saved step survives
the worker process dying on both databases, and the database server crashing on PostgreSQL;
`$MANA_DBOS_SYNC_COMMIT` chooses otherwise (`1`: every commit waits for the disk on both,
`0`: neither waits).

- **SQLite: WAL and `synchronous=NORMAL`** (the default). SQLite's own defaults (a rollback
  journal, `synchronous=FULL`) fsync the journal and the database on every commit: about 3 ms
  a step on this VM's disk. In WAL mode with `synchronous=NORMAL` a commit appends to the WAL
  with no fsync; the WAL is fsynced when it is checkpointed into the database. A committed
  step survives the worker being killed (SIGKILL, OOM, a crash): the WAL pages are in the
  kernel's page cache and the next open replays them. If the machine loses power, the last
  commits may be lost (never the database's consistency), as the run's transcript and the
  app's own SQLite writes would be: SQLite is the one-machine default.
- **PostgreSQL: the server's `synchronous_commit`** (the default), because the server is
  usually its own machine and its crash is a failure of its own. `MANA_DBOS_SYNC_COMMIT=0` sets
  `synchronous_commit=off` on DBOS's connections only: the server acknowledges a commit before
  its WAL record is flushed (within about 3 x `wal_writer_delay`, 600 ms by default), so a
  server crash may lose the last step records and the run re-runs those steps.

A lost step record means the run resumes from an earlier step, the same case as the step in
flight at a crash: it runs again, and write tools are idempotent on their call id.

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
"""1: every system-database commit waits for the disk; 0: none does; unset: per database."""
DBOS_APPLICATION_NAME = "dbos_transact"
"""What DBOS names its PostgreSQL connections (kept when we set connect_args)."""


def sync_commit_from_env() -> bool | None:
    """What $MANA_DBOS_SYNC_COMMIT asks: True (wait for the disk), False (never), None (unset)."""
    value = os.environ.get(SYNC_COMMIT_ENV, "").strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    return None


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


def system_db_engine_kwargs(url: str, *, sync_commit: bool | None = None) -> dict[str, Any]:
    """SQLAlchemy engine options for DBOS's system database at `url` (DBOS's `db_engine_kwargs`).

    DBOS keeps its own pool size, timeouts and SQLite connect hook; these options only add to
    them. `sync_commit` True makes each commit wait for the disk, False makes none wait, None
    keeps each database's default (see the module docstring).
    """
    options: dict[str, Any] = {"pool_pre_ping": False}
    if url.startswith("sqlite"):
        options["connect_args"] = {"factory": WalSyncConnection if sync_commit else WalConnection}
    elif sync_commit is False:
        options["connect_args"] = {
            "application_name": DBOS_APPLICATION_NAME,
            "options": "-c synchronous_commit=off",
        }
    return options
