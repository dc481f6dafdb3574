"""Heartbeats: a run that ended leaves no fresh beat behind, even when the process stops at once."""

from __future__ import annotations

from pathlib import Path

from missions.heartbeat import BeatStore, Heartbeat


def test_an_interrupted_run_stops_beating_when_its_process_stops_before_the_next_beat(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'system.sqlite'}"
    store = BeatStore(url)
    store.create()
    beat = Heartbeat(store, "exec-1", "app", "run", interval_s=3600)
    store.register("exec-1", "app", "run", 0.0)
    beat.track("run-1")
    assert "run-1" in BeatStore(url).run_beats(["run-1"])
    beat.untrack("run-1")
    beat.stop()  # the process ends long before the next beat would drop the row

    reader = BeatStore(url)
    try:
        beats = reader.run_beats(["run-1"])
    finally:
        reader.close()
    assert beats == {}
