"""Survivors take over a dead worker's runs: the claim (one winner however many try), and on
PostgreSQL three real workers, one SIGKILLed with two runs in flight and never restarted."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from missions.config import MissionConfig
from missions.heartbeat import BeatStore, Heartbeat
from missions.schedule_dbos import enqueue_run
from missions.system_db import APP_NAME, client, system_database_url
from tests.missions.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("MANA_TEST_PG_URL")


def databases(tmp_path: Path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'sys.sqlite'}"]
    if PG_URL:
        urls.append(system_database_url(PG_URL))
    return urls


def survivor(
    url: str, app: str, me: str, barrier: threading.Barrier, recovered: list[tuple[str, str]]
) -> None:
    """A live worker that looks for dead ones at the same moment as the others."""

    def recover(dead: str) -> int:
        recovered.append((dead, me))
        return 2

    beat = Heartbeat(BeatStore(url), me, app, "worker", recover_after_s=30, recover=recover)
    beat.store.register(me, app, "worker", time.time())
    barrier.wait()
    beat.take_over()
    beat.store.close()


def test_one_survivor_wins_the_claim_however_many_try(tmp_path: Path) -> None:
    for url in databases(tmp_path):
        app = f"claim-{secrets.token_hex(3)}"
        store = BeatStore(url)
        store.create()
        store.register("dead-1", app, "worker", now=time.time() - 120)
        store.register("run:x", app, "run", now=time.time() - 120)  # runs are never taken over
        recovered: list[tuple[str, str]] = []
        barrier = threading.Barrier(6)
        threads = [
            threading.Thread(target=survivor, args=(url, app, f"alive-{n}", barrier, recovered))
            for n in range(6)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(recovered) == 1 and recovered[0][0] == "dead-1", (url, recovered)
        rows = {w.executor_id: w for w in store.workers() if w.app_name == app}
        assert rows["dead-1"].recovered_by == recovered[0][1]
        assert rows["run:x"].recovered_by is None
        store.register("dead-1", app, "worker", now=time.time())  # it came back: alive again
        assert store.dead_workers(app, time.time() - 30, "alive-0") == []
        store.close()


STEPS = [
    {"tool_calls": [{"name": "notes.write", "arguments": {"text": "before"}}]},
    {"tool_calls": [{"name": "probe.hold", "arguments": {}}]},
    {"tool_calls": [{"name": "done.record", "arguments": {}}]},
    {"text": "done"},
]
RECOVER_AFTER_S = 3.0


def statuses(db: str, run_ids: list[str]) -> set[str]:
    """The DBOS statuses of these runs."""
    c = client(db, APP_NAME)
    try:
        return {c.retrieve_workflow(r).get_status().status for r in run_ids}
    finally:
        c.destroy()


def stop_and_forget(procs: dict[str, subprocess.Popen[bytes]], db: str, run_ids: list[str]) -> None:
    """Stop the workers and leave nothing of this test in the shared database for later runs."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    c = client(db, APP_NAME)
    try:
        for w in c.list_workflows(workflow_id_prefix=run_ids[0].rsplit("-", 1)[0]):
            if w.status in ("PENDING", "ENQUEUED"):
                c.cancel_workflow(w.workflow_id)
    finally:
        c.destroy()
    beats = BeatStore(db)
    try:
        for name in procs:
            beats.retire(name)
    finally:
        beats.close()


def rows(db: Path, table: str, tag: str = "") -> list[tuple[str, int, float]]:
    """The take-over tools' rows (run id, pid, time) of this test's runs."""
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            query = f"SELECT value, pid, at FROM {table}"
            found = [(str(v), int(p), float(a)) for v, p, a in conn.execute(query)]
        except sqlite3.OperationalError:
            return []
    return [row for row in found if row[0].startswith(tag)]


def start_worker(
    tmp: Path, db: str, name: str, hold: Path, missions: Path
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        MANA_EXECUTOR_ID=name,
        MANA_HEARTBEAT_S="0.5",
        DURABLE_CHILD_DUMP_S="180",
    )
    args = [sys.executable, "-m", "tests.missions.durable_child", "worker", "--db", db]
    args += ["--runs-dir", str(tmp / "runs"), "--rows", str(tmp / "rows.sqlite")]
    args += ["--missions", str(missions), "--concurrency", "2", "--hold", str(hold)]
    args += ["--recover-after", str(RECOVER_AFTER_S)]
    out = (tmp / f"{name}.out").open("wb")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.skipif(not PG_URL, reason="MANA_TEST_PG_URL is not set (CI sets it)")
@pytest.mark.parametrize(
    "workers", [int(n) for n in os.environ.get("MANA_TAKEOVER_WORKERS", "3").split(",")]
)
def test_survivors_finish_a_killed_workers_runs_exactly_once(tmp_path: Path, workers: int) -> None:
    assert PG_URL is not None
    db = system_database_url(PG_URL)
    tag = f"takeover-{secrets.token_hex(3)}"
    hold = tmp_path / "hold"
    hold.write_text("held")
    steps = tmp_path / "steps.json"
    steps.write_text(json.dumps(STEPS))
    missions = tmp_path / "missions"
    missions.mkdir()  # no schedules: these workers only drain the queue
    names = [f"{tag}-{n}" for n in range(workers)]
    procs = {name: start_worker(tmp_path, db, name, hold, missions) for name in names}
    store = tmp_path / "rows.sqlite"
    run_ids = [f"{tag}-run-{n}" for n in range(2 * workers)]
    try:
        cfg = MissionConfig.model_validate(
            {
                "id": tag,
                "title": "Take-over test",
                "objective": "Write, wait, finish.",
                "model": f"scripted:{steps}",
                "tools": ["notes.*", "probe.*", "done.*"],
                "user_id": "u1",
                "space_id": "s1",
            }
        )
        for run_id in run_ids:
            enqueue_run(db, cfg, run_id=run_id, runs_dir=tmp_path / "runs")
        held = lambda: {v for v, _, _ in rows(store, "holds", tag)} >= set(run_ids)  # noqa: E731
        assert wait_until(held, 90), rows(store, "holds", tag)
        by_pid = Counter(p for _, p, _ in rows(store, "holds", tag))
        victim = next((n for n, p in procs.items() if by_pid[p.pid] == 2), "")
        assert victim, f"no worker holds two runs: {by_pid}"
        victim_runs = {v for v, p, _ in rows(store, "holds", tag) if p == procs[victim].pid}
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait()
        killed_at = time.time()
        hold.unlink()

        succeeded = lambda: statuses(db, run_ids) == {"SUCCESS"}  # noqa: E731
        assert wait_until(succeeded, RECOVER_AFTER_S + 30), rows(store, "finished", tag)
        resumed = [a for v, p, a in rows(store, "holds", tag) if v in victim_runs and a > killed_at]
        took = [round(a - killed_at, 2) for a in resumed]
        print(f"{workers - 1} survivors: kill to resumed run {took} s")
    finally:
        stop_and_forget(procs, db, run_ids)
    outputs = "\n".join((tmp_path / f"{n}.out").read_text(errors="replace") for n in names)
    survivors = {p.pid for n, p in procs.items() if n != victim}
    for table in ("notes", "finished"):
        counts = Counter(v for v, _, _ in rows(store, table, tag))
        assert counts == Counter(run_ids), (table, counts)  # each run's write exactly once
    finishers = {v: p for v, p, _ in rows(store, "finished", tag)}
    assert all(finishers[r] in survivors for r in victim_runs)
    assert len(resumed) == 2  # the read in flight at the kill ran again, on a survivor
    recoveries = [line for line in outputs.splitlines() if "worker.recovered" in line]
    # the victim's runs were taken over once (a dead worker another test left may be too)
    assert len([line for line in recoveries if f"dead={victim} " in line]) == 1, recoveries
