"""Mission files: every shipped example validates; bad files name file, field and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from missions.config import MissionConfig, load_mission, mission_files
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


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'id = "caf\xe9"\n', "not UTF-8 text (byte 0xe9 at offset 9)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary content (NUL byte at offset 8)"),
        (b"a = " + b"[" * 5000 + b"]" * 5000, "not valid TOML: nested too deeply"),
    ],
)
def test_unreadable_content_is_one_line_naming_the_file(
    tmp_path: Path, raw: bytes, problem: str
) -> None:
    path = tmp_path / "m.toml"
    path.write_bytes(raw)
    with pytest.raises(MissionConfigError) as info:
        load_mission(path)
    assert str(info.value) == f"{path}: {problem}"


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_mission(path).id == "ok"


@pytest.mark.parametrize(
    ("cron", "field"),
    [
        ("99 99 99 99 99", "minute"),
        ("0 25 * * *", "hour"),
        ("0 0 32 * *", "day of month"),
        ("0 0 * 13 *", "month"),
        ("0 0 * * 8", "day of week"),
        ("61 0 0 * * *", "second"),
        ("0 0 * * mon-xyz", "day of week"),
    ],
)
def test_cron_fields_are_checked_for_range(tmp_path: Path, cron: str, field: str) -> None:
    path = write(tmp_path, GOOD + f'schedule = "{cron}"\n')
    with pytest.raises(MissionConfigError) as info:
        load_mission(path)
    assert f"{path}: schedule: {field} field" in str(info.value)


@pytest.mark.parametrize("cron", ["0 18 * * 5", "*/15 * * * *", "30 0 18 * * mon-fri"])
def test_good_crons_pass(tmp_path: Path, cron: str) -> None:
    assert load_mission(write(tmp_path, GOOD + f'schedule = "{cron}"\n')).schedule == cron


@pytest.mark.parametrize(
    ("extra", "field", "problem"),
    [
        ('every = "0m"', "every", "must be greater than zero"),
        ('every = "0s"', "every", "must be greater than zero"),
        ("[limits]\nmax_tool_calls = 0", "limits.max_tool_calls", ">= 1"),
        ("[limits]\ntoken_budget = -1", "limits.token_budget", ">= 1"),
        ("[limits]\ntimeout_s = inf", "limits.timeout_s", "finite number"),
        ("[limits]\ncost_budget_usd = nan", "limits.cost_budget_usd", "finite number"),
        (
            '[policy]\nrate_limits = { "todo.create" = -3 }',
            "policy.rate_limits.todo.create",
            ">= 1",
        ),
        ('[policy]\nrate_limits = { "todo.create" = 0 }', "policy.rate_limits.todo.create", ">= 1"),
        ('model = "antrophic:claude"', "model", "known: anthropic, openai, openai-responses"),
        ('model = "gpt-5"', "model", "must look like PROVIDER:NAME"),
        ("[reminders]\nnagging = {}", "reminders", "nagging: unknown reminder producer"),
        ('tool_modules = ["my tools"]', "tool_modules.0", "should match pattern"),
    ],
)
def test_limits_durations_and_providers(
    tmp_path: Path, extra: str, field: str, problem: str
) -> None:
    text = GOOD.replace('model = "scripted:x.json"\n', "") if extra.startswith("model") else GOOD
    path = write(tmp_path, text + extra + "\n")
    with pytest.raises(MissionConfigError) as info:
        load_mission(path)
    line = next(x for x in str(info.value).splitlines() if f"{path}: {field}:" in x)
    assert problem.replace(">= 1", "greater than or equal to 1") in line


def test_paths_resolve_against_the_mission_file_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "project" / "missions"
    folder.mkdir(parents=True)
    text = GOOD.replace("scripted:x.json", "scripted:../steps/x.json") + (
        '[[subagents]]\nname = "helper"\ndescription = "d"\nmodel = "replay:run.jsonl"\n'
        '[[subagents]]\nname = "abs"\ndescription = "d"\nmodel = "scripted:/abs/s.json"\n'
    )
    path = folder / "m.toml"
    path.write_text(text)
    monkeypatch.chdir(tmp_path / "project")
    for where in (path, Path("missions/m.toml")):
        cfg = load_mission(where)
        assert cfg.model == f"scripted:{tmp_path / 'project' / 'steps' / 'x.json'}"
        helper, absolute = cfg.subagents
        assert not isinstance(helper, str) and helper.model == f"replay:{folder / 'run.jsonl'}"
        assert not isinstance(absolute, str) and absolute.model == "scripted:/abs/s.json"
    # a config rebuilt from its dump (as a durable run does) keeps the resolved paths
    again = MissionConfig.model_validate(cfg.model_dump(mode="json"))
    assert again.model == cfg.model
