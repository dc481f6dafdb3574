"""Mission files: every shipped example validates; bad files name file, field and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from missions.config import load_mission, mission_files
from missions.errors import MissionConfigError

ROOT = Path(__file__).resolve().parents[2]
GOOD = """
id = "ok"
title = "t"
objective = "o"
model = "scripted:x.json"
user_id = "u"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.toml"
    path.write_text(text)
    return path


def test_shipped_missions_validate() -> None:
    files = mission_files(ROOT / "configs" / "missions")
    assert len(files) >= 3
    ids = {load_mission(f).id for f in files}
    assert {"weekly-review", "notes-digest", "reference-pick"} <= ids


def test_defaults(tmp_path: Path) -> None:
    cfg = load_mission(write(tmp_path, GOOD))
    assert cfg.mode == "execute" and cfg.parallel_reads and cfg.tools == ["*"]
    assert cfg.limits.max_rounds == 8 and cfg.space_id is None
    assert cfg.selects("todo.create")


@pytest.mark.parametrize(
    ("extra", "field", "problem"),
    [
        ('mode = "dry"', "mode", "Input should be 'execute' or 'plan-only'"),
        ('every = "5 minutes"', "every", 'like "15m" or "6h"'),
        ('schedule = "every day"', "schedule", "cron string"),
        ("[limits]\nmax_rounds = 0", "limits.max_rounds", "greater than or equal to 1"),
        ('[policy]\nmode = "strict"', "policy.mode", "'off', 'log-only' or 'enforce'"),
        ('subagents = ["wizard"]', "subagents", "unknown sub-agent 'wizard'"),
        ("surprise = 1", "surprise", "Extra inputs are not permitted"),
    ],
)
def test_bad_field_names_file_field_and_problem(
    tmp_path: Path, extra: str, field: str, problem: str
) -> None:
    path = write(tmp_path, GOOD + extra + "\n")
    with pytest.raises(MissionConfigError) as info:
        load_mission(path)
    message = str(info.value)
    assert f"{path}: {field}" in message
    assert problem in message


def test_missing_fields_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(MissionConfigError, match=r"m.toml: objective: Field required"):
        load_mission(write(tmp_path, 'id = "x"\ntitle = "t"\nmodel = "m"\nuser_id = "u"\n'))
    with pytest.raises(MissionConfigError, match=r"m.toml: not valid TOML"):
        load_mission(write(tmp_path, "id = \n"))


def test_every_seconds_and_both_schedules(tmp_path: Path) -> None:
    assert load_mission(write(tmp_path, GOOD + 'every = "15m"\n')).every_seconds == 900
    with pytest.raises(MissionConfigError, match="not both"):
        load_mission(write(tmp_path, GOOD + 'every = "1h"\nschedule = "0 * * * *"\n'))
