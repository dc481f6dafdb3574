"""Mission schedules on DBOS: cron conversion, firing, pause/resume, missed slots, scale-out."""

from __future__ import annotations

import itertools
import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dbos import DBOS, DBOSClient
from pydantic import BaseModel

from missions.config import MissionConfig
from missions.durable import DBOSEngine
from missions.errors import MissionConfigError, ScheduleIntervalError, UnknownScheduleError
from missions.heartbeat import BeatStore
from missions.schedule import (
    ScheduleEntry,
    every_to_cron,
    latest_missed_slot,
    mission_cron,
    schedule_entries,
)
from missions.schedule_dbos import apply, run_latest_missed, schedule_status, set_paused
from missions.system_db import APP_NAME, MISSION_QUEUE, safe_url, system_database_url
from planner import ToolContext, ToolRegistry, ToolSpec
from tests.missions.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_every_becomes_an_aligned_cron() -> None:
    assert every_to_cron(1) == "*/1 * * * * *"
    assert every_to_cron(15) == "*/15 * * * * *"
    assert every_to_cron(60) == "0 */1 * * * *"
    assert every_to_cron(15 * 60) == "0 */15 * * * *"
    assert every_to_cron(6 * 3600) == "0 0 */6 * * *"
    assert every_to_cron(2 * 86400) == "0 0 0 */2 * *"
    with pytest.raises(ScheduleIntervalError, match="not expressible"):
        every_to_cron(90)


def cfg(**fields: str) -> MissionConfig:
    base = {"id": "m", "title": "t", "objective": "o", "model": "scripted:x", "user_id": "u"}
    return MissionConfig.model_validate({**base, **fields})


def test_mission_cron_adds_seconds_to_five_field_crons() -> None:
    assert mission_cron(cfg(schedule="30 7 * * mon")) == "0 30 7 * * mon"
    assert mission_cron(cfg(schedule="*/5 * * * * *")) == "*/5 * * * * *"
    assert mission_cron(cfg(every="6h")) == "0 0 */6 * * *"
    assert mission_cron(cfg()) is None


def write_mission(folder: Path, mission_id: str, extra: str) -> Path:
    path = folder / f"{mission_id}.toml"
    path.write_text(
        f'id = "{mission_id}"\ntitle = "t"\nobjective = "o"\nmodel = "scripted:x"\n'
        f'user_id = "u"\n{extra}\n'
    )
    return path


def test_schedule_entries_name_file_and_problem(tmp_path: Path) -> None:
    write_mission(tmp_path, "a", 'every = "15m"')
    write_mission(tmp_path, "b", "")  # no schedule: not scheduled
    assert schedule_entries(tmp_path) == [ScheduleEntry("a", tmp_path / "a.toml", "0 */15 * * * *")]
    write_mission(tmp_path, "c", 'every = "90s"')
    with pytest.raises(MissionConfigError, match=r"c\.toml: every: .*not expressible"):
        schedule_entries(tmp_path)


def test_latest_missed_slot() -> None:
    now = datetime(2025, 1, 1, 12, 0, 30, tzinfo=UTC)
    cron = "0 */15 * * * *"
    last = datetime(2025, 1, 1, 11, 15, tzinfo=UTC)
    assert latest_missed_slot(cron, last, now) == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert latest_missed_slot(cron, now - timedelta(seconds=30), now) is None


def test_safe_url_hides_the_password() -> None:
    assert safe_url("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert safe_url("sqlite:///var/x.sqlite") == "sqlite:///var/x.sqlite"


class Empty(BaseModel):
    pass


def recording_registry(seen: list[str]) -> ToolRegistry:
    async def record(ctx: ToolContext, inp: Empty) -> Empty:
        seen.append(ctx.run_id)
        return Empty()

    return ToolRegistry(
        [ToolSpec("slot.record", "Record.", Empty, Empty, record, policy_hint="write")]
    )


def slot_mission(folder: Path, mission_id: str) -> Path:
    steps = folder / "steps.json"
    steps.write_text(
        json.dumps([{"tool_calls": [{"name": "slot.record", "arguments": {}}]}, {"text": "ok"}])
    )
    missions = folder / "missions"
    missions.mkdir()
    write_mission(missions, mission_id, 'every = "1s"\ntools = ["slot.*"]\nspace_id = "s"')
    text = (missions / f"{mission_id}.toml").read_text().replace("scripted:x", f"scripted:{steps}")
    (missions / f"{mission_id}.toml").write_text(text)
    return missions


@pytest.mark.usefixtures("destroy_dbos")
def test_schedule_fires_pauses_resumes_and_runs_a_missed_slot_once(tmp_path: Path) -> None:
    seen: list[str] = []
    missions = slot_mission(tmp_path, "tick")
    db = f"sqlite:///{tmp_path / 'sys.sqlite'}"
    engine = DBOSEngine.with_tools(
        recording_registry(seen), db_url=db, runs_dir=tmp_path / "runs", scheduler_poll_s=1.0
    )
    with pytest.raises(UnknownScheduleError, match="'tick' has no schedule"):
        set_paused(db, "tick", paused=True)
    engine.launch()
    try:
        assert engine.schedule([missions], missed="skip", concurrency=2) == ["tick"]
        queue = DBOS.retrieve_queue(MISSION_QUEUE)
        assert queue is not None and queue.worker_concurrency == 2
        assert wait_until(lambda: len(seen) >= 2, 15), seen

        engine.pause("tick")
        assert schedule_status(db, "tick") == "PAUSED"
        time.sleep(2.0)  # every worker polls within 1 s; a run in flight finishes
        fired = len(seen)
        time.sleep(2.0)
        assert len(seen) == fired, "a paused schedule fired"

        entry = schedule_entries(missions)[0]
        assert run_latest_missed(entry, datetime.now(UTC)) is None  # paused: nothing

        engine.resume("tick")
        assert schedule_status(db, "tick") == "ACTIVE"
        now = datetime.now(UTC)
        missed = run_latest_missed(entry, now)
        assert missed is not None and missed.startswith("sched-tick-")
        assert run_latest_missed(entry, now) == missed  # the same slot id: it runs once
        apply([entry], missed="once")  # what `schedule --missed once` does on start
        assert wait_until(lambda: missed in seen, 10), (missed, seen)
        time.sleep(1.5)
    finally:
        engine.shutdown()
    counts = Counter(seen)
    assert all(n == 1 for n in counts.values()), counts
    assert all(run_id.startswith("sched-tick-") for run_id in seen)
    transcripts = list((tmp_path / "runs" / "tick").glob("*.jsonl"))
    assert len(transcripts) >= len(seen)


# --- scale-out on PostgreSQL ---------------------------------------------------------------

PG_URL = os.environ.get("MANA_TEST_PG_URL")
SLOTS = 20


def slot_time(run_id: str, mission_id: str) -> datetime:
    return datetime.fromisoformat(run_id.removeprefix(f"sched-{mission_id}-"))


@pytest.mark.skipif(not PG_URL, reason="MANA_TEST_PG_URL is not set (CI sets it)")
def test_two_workers_on_postgres_run_every_slot_exactly_once(tmp_path: Path) -> None:
    assert PG_URL is not None
    mission_id = f"slots-{secrets.token_hex(4)}"
    missions = slot_mission(tmp_path, mission_id)
    rows = tmp_path / "rows.sqlite"
    db = system_database_url(PG_URL)
    workers = []
    for n in (1, 2):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT)
        env["MANA_EXECUTOR_ID"] = f"{mission_id}-worker-{n}"
        env["DURABLE_CHILD_DUMP_S"] = "120"
        args = [sys.executable, "-m", "tests.missions.durable_child", "worker", "--db", db]
        args += ["--runs-dir", str(tmp_path / "runs"), "--rows", str(rows)]
        args += ["--missions", str(missions)]
        workers.append(
            subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(tmp_path / f"worker-{n}.err", "wb"),  # noqa: SIM115
            )
        )

    def distinct_slots() -> int:
        if not rows.exists():
            return 0
        with sqlite3.connect(rows, timeout=10) as conn:
            try:
                query = "SELECT COUNT(DISTINCT value) FROM slots WHERE value LIKE ?"
                return int(conn.execute(query, (f"sched-{mission_id}-%",)).fetchone()[0])
            except sqlite3.OperationalError:
                return 0

    try:
        done = wait_until(
            lambda: distinct_slots() >= SLOTS + 2 or any(w.poll() is not None for w in workers),
            60,
        )
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
        # leave no schedule, no interrupted run and no worker row behind in the shared
        # database: a later test's worker would take the stopped workers over
        client = DBOSClient(system_database_url=db, application_name=APP_NAME)
        try:
            client.delete_schedule(mission_id)
            pending = client.list_workflows(
                workflow_id_prefix=f"sched-{mission_id}-", status=["PENDING", "ENQUEUED"]
            )
            if pending:
                client.cancel_workflows([w.workflow_id for w in pending])
        finally:
            client.destroy()
        beats = BeatStore(db)
        try:
            for n in (1, 2):
                beats.retire(f"{mission_id}-worker-{n}")
        finally:
            beats.close()
    errors = "\n".join((tmp_path / f"worker-{n}.err").read_text()[-2000:] for n in (1, 2))
    assert done and all(w.returncode is not None for w in workers), errors

    with sqlite3.connect(rows) as conn:
        recorded = [(str(v), int(p)) for v, p in conn.execute("SELECT value, pid FROM slots")]
    # the shared PostgreSQL database may hold other runs' schedules: count this mission's only
    recorded = [(v, p) for v, p in recorded if v.startswith(f"sched-{mission_id}-")]
    counts = Counter(v for v, _ in recorded)
    twice = {v: n for v, n in counts.items() if n > 1}
    assert not twice, f"slots run more than once: {twice}"
    slots = sorted(slot_time(v, mission_id) for v in counts)
    assert len(slots) >= SLOTS, (len(slots), errors)
    gaps = [(a, b) for a, b in itertools.pairwise(slots) if b - a != timedelta(seconds=1)]
    assert not gaps, f"slots missed between {gaps}"
