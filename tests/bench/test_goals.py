"""The goal table: ceilings and floors judged in the right direction, unmeasured goals left out."""

from __future__ import annotations

from bench.__main__ import goal_rows


def test_a_ceiling_is_met_at_or_below_it_and_a_floor_at_or_above_it() -> None:
    rows = goal_rows(
        {
            "gate_us_per_decision": 12.0,
            "ten_50ms_ratio": 1.04,
            "gateway_vs_bare_ratio_current": 0.97,
            "gateway_vs_bare_ratio_legacy": 0.90,
        }
    )
    verdicts = {label: met for label, _, _, met in rows}
    assert verdicts == {
        "policy gate ≤ 10 µs per decision": False,
        "10 reads of 50 ms ≤ 1.04 × 50 ms": True,
        "gateway ≥ 0.95 of a bare SDK server (current protocol)": True,
        "gateway ≥ 0.95 of a bare SDK server (legacy protocol)": False,
    }
    ratios = {label: ratio for label, _, ratio, _ in rows}
    assert ratios["policy gate ≤ 10 µs per decision"] == "1.20"
    assert ratios["gateway ≥ 0.95 of a bare SDK server (legacy protocol)"] == "0.95"
