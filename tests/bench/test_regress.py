"""The bench regression check: figures compared as ratios, in the right direction."""

from __future__ import annotations

import json
from pathlib import Path

from bench.regress import TOLERANCE, check_files, compare, direction, report


def test_directions_follow_the_figure_names() -> None:
    assert direction("overhead_us_per_round_1call") == "lower"
    assert direction("ten_50ms_ratio") == "lower"
    assert direction("transcript_share_10call") == "lower"
    assert direction("dbos_sqlite_us_per_step") == "lower"
    assert direction("gateway_calls_per_s_current") == "higher"
    assert direction("gateway_vs_bare_ratio_legacy") == "higher"
    assert direction("subagents5_vs_ideal") == "lower"
    # workload inputs and bare baselines are not our results
    assert direction("mixed25_window_ideal_ms") is None
    assert direction("bare_calls_per_s_current") is None
    assert direction("replay_rounds") is None


def test_a_ratio_more_than_a_quarter_worse_regresses_either_way() -> None:
    old = {"ten_50ms_ratio": 1.0, "gateway_vs_bare_ratio_current": 1.0}
    just_inside = 1.0 + TOLERANCE - 0.01
    ok = compare(
        old,
        {"ten_50ms_ratio": just_inside, "gateway_vs_bare_ratio_current": 1 / just_inside},
    )
    assert [r.regressed for r in ok] == [False, False]
    bad = compare(old, {"ten_50ms_ratio": 1.3, "gateway_vs_bare_ratio_current": 0.79})
    assert [r.regressed for r in bad] == [True, True]


def test_an_absolute_figure_more_than_a_quarter_worse_is_shown_but_does_not_fail() -> None:
    old = {"overhead_us_per_round_1call": 100.0, "gateway_calls_per_s_current": 100.0}
    rows = compare(old, {"overhead_us_per_round_1call": 130.0, "gateway_calls_per_s_current": 79.0})
    assert [(r.worse, r.regressed) for r in rows] == [(True, False), (True, False)]
    assert "worse (absolute)" in report(rows)
    better = compare(
        old, {"overhead_us_per_round_1call": 50.0, "gateway_calls_per_s_current": 300.0}
    )
    assert all(r.worse_by < 1 for r in better)


def test_a_measurement_over_a_fixed_goal_is_absolute() -> None:
    """`_vs_goal` divides one latency by a constant: machine speed moves it like the latency."""
    rows = compare({"list_p99_under_attack_vs_goal": 0.17}, {"list_p99_under_attack_vs_goal": 0.3})
    assert [(r.worse, r.regressed) for r in rows] == [(True, False)]
    assert compare({"scale1000_vs_ideal": 1.3}, {"scale1000_vs_ideal": 1.7})[0].regressed


def test_figures_missing_from_either_run_or_not_numbers_are_skipped() -> None:
    rows = compare({"a_us": 1.0, "dbos": "text"}, {"b_us": 2.0, "dbos": "other", "a_us": True})
    assert rows == []


def test_check_files_exit_code(tmp_path: Path, capsys: object) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps({"replay_total_s": 0.4, "transcript_share_1call": 0.3}))
    new.write_text(json.dumps({"replay_total_s": 0.6, "transcript_share_1call": 0.35}))
    assert check_files(old, new) == 0
    new.write_text(json.dumps({"replay_total_s": 0.4, "transcript_share_1call": 0.4}))
    assert check_files(old, new) == 1


def test_shares_near_zero_are_compared_from_the_floor() -> None:
    """1.5 % -> 2.5 % is noise; 27 % -> 35 % is a regression."""
    small = compare(
        {"transcript_file_share_10call": 0.015}, {"transcript_file_share_10call": 0.025}
    )
    assert not small[0].worse
    big = compare({"transcript_share_1call": 0.27}, {"transcript_share_1call": 0.35})
    assert big[0].regressed
