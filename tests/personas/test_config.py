"""Persona files: the shipped ten are valid and spread over the six space types; errors name
file, field and problem."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from personas.config import DEFAULT_DIR, load_persona, load_personas, select
from personas.errors import PersonaConfigError
from toolkits.schema import SPACE_TYPES

GOOD = """
id = "tess"
name = "Tess"
archetype = "tester"
system_prompt = "You are Tess, who tests the app carefully and reports what she finds."
cadence = "daily"
goals = ["test"]
model = "scripted-persona"
[modules]
todo = 1
"""


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_shipped_personas_cover_every_space_type() -> None:
    personas = load_personas(DEFAULT_DIR)
    assert len(personas) == 10
    acting_in = Counter(p.space_type for p in personas)
    assert set(acting_in) == set(SPACE_TYPES)
    assert {p.cadence for p in personas} == {"hourly", "daily", "weekdays"}
    for p in personas:
        assert p.max_turns >= 1
        assert (p.tools.min, p.tools.max) >= (0, 1)
        assert p.user_id == f"persona-{p.id}"


def test_defaults(tmp_path: Path) -> None:
    cfg = load_persona(write(tmp_path, GOOD))
    assert cfg.max_turns == 15
    assert (cfg.tools.min, cfg.tools.max) == (3, 8)
    assert cfg.space == "personal"
    assert cfg.space_type == "personal"
    assert cfg.uses("todo.create") and not cfg.uses("notes.create")


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ('cadence = "weekly"', "cadence", "'hourly', 'daily' or 'weekdays'"),
        ("max_turns = 0", "max_turns", "greater than or equal to 1"),
        ("[modules]\ntodos = 1", "modules", "unknown module 'todos'"),
        ('space = "club:nowhere"', "(file)", "one of `spaces` ids"),
        ("[tools]\nmin = 9\nmax = 3", "tools", "must not exceed max"),
        ('timezone = "Mars/Olympus"', "timezone", "unknown time zone"),
        ('colour = "blue"', "colour", "Extra inputs are not permitted"),
    ],
)
def test_errors_name_file_field_and_problem(
    tmp_path: Path, change: str, field: str, problem: str
) -> None:
    text = GOOD
    if change.startswith("[modules]"):
        text = text.replace("[modules]\ntodo = 1", change)
    elif change.startswith("[tools]"):
        text = text + change
    else:
        text = change + "\n" + text.replace(f"{change.split(' ')[0]} =", "#", 1)
    path = write(tmp_path, text)
    with pytest.raises(PersonaConfigError) as info:
        load_persona(path)
    message = str(info.value)
    assert str(path) in message
    assert f": {field}" in message
    assert problem in message


def test_shared_space_checks(tmp_path: Path) -> None:
    text = GOOD.replace("[modules]", 'space = "club:x"\n[modules]') + (
        '[[spaces]]\nid = "team:x"\ntype = "club"\nname = "X"\n'
    )
    with pytest.raises(PersonaConfigError, match=r"spaces\.0.*must start with its type 'club'"):
        load_persona(write(tmp_path, text))
    personal = GOOD + '[[spaces]]\nid = "personal:x"\ntype = "personal"\nname = "X"\n'
    with pytest.raises(PersonaConfigError, match=r"spaces\.0\.type: .*must be one of brand"):
        load_persona(write(tmp_path, personal))


def test_bad_toml_and_duplicates(tmp_path: Path) -> None:
    bad = write(tmp_path, "id = ", "bad.toml")
    with pytest.raises(PersonaConfigError, match=r"bad\.toml: not valid TOML"):
        load_persona(bad)
    folder = tmp_path / "dir"
    folder.mkdir()
    write(folder, GOOD, "a.toml")
    write(folder, GOOD, "b.toml")
    with pytest.raises(PersonaConfigError, match=r"b\.toml: id: 'tess' is also the id of"):
        load_personas(folder)


def test_select_names_unknown_ids() -> None:
    personas = load_personas(DEFAULT_DIR)
    assert [p.id for p in select(personas, ["sam-student"])] == ["sam-student"]
    with pytest.raises(PersonaConfigError, match="unknown persona ids: nobody"):
        select(personas, ["nobody"])


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ('model = "antrophic:claude"', "model", "known: anthropic, openai, openai-responses"),
        ('model = "scripted-persona:abc"', "model", "SEED must be an integer"),
        ('model = "scripted:steps.json"', "model", "steps.json does not exist"),
        ("[modules]\ntodos = 1", "modules", "did you mean 'todo'?"),
        ("[modules]\ntodo = nan", "modules.todo", "finite number"),
        ("[modules]\ntodo = inf", "modules.todo", "finite number"),
        ('goals = [""]', "goals.0", "at least 1 character"),
        ("[tools]\nmax = 0", "tools.max", "greater than or equal to 1"),
    ],
)
def test_model_modules_and_limits_are_checked(
    tmp_path: Path, change: str, field: str, problem: str
) -> None:
    key = change.split()[0]
    if key == "[modules]":
        text = GOOD.replace("[modules]\ntodo = 1", change)
    elif key == "[tools]":
        text = GOOD + change
    else:
        text = change + "\n" + GOOD.replace(f"\n{key} =", "\n#", 1)
    path = write(tmp_path, text)
    with pytest.raises(PersonaConfigError) as info:
        load_persona(path)
    line = next(x for x in str(info.value).splitlines() if f"{path}: {field}:" in x)
    assert problem in line


def test_content_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"id = \x00")
    with pytest.raises(PersonaConfigError, match=r"b\.toml: binary content \(NUL byte at offset 5"):
        load_persona(binary)
    latin = tmp_path / "l.toml"
    latin.write_bytes(GOOD.replace("Tess", "T\xe9ss").encode("latin-1"))
    with pytest.raises(PersonaConfigError, match=r"l\.toml: not UTF-8 text \(byte 0xe9"):
        load_persona(latin)
    (tmp_path / "steps.json").write_text("[]")
    path = write(tmp_path, GOOD.replace('"scripted-persona"', '"scripted:steps.json"'))
    monkeypatch.chdir("/")
    assert load_persona(path).model == f"scripted:{tmp_path / 'steps.json'}"
    assert load_persona(write(tmp_path, GOOD.replace('"scripted-persona"', '"scripted-persona:7"')))


def test_validate_command_prints_each_problem_and_exits_non_zero(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from personas.cli import personas_app

    write(tmp_path, GOOD.replace('"scripted-persona"', '"antrophic:x"'), "a.toml")
    (tmp_path / "b.toml").write_bytes(b"\xff")
    write(tmp_path, GOOD.replace('id = "tess"', 'id = "tess2"'), "c.toml")
    result = CliRunner().invoke(personas_app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(x.startswith(f"{tmp_path / 'a.toml'}: model: unknown model provider") for x in lines)
    assert f"{tmp_path / 'b.toml'}: not UTF-8 text (byte 0xff at offset 0)" in lines
    assert any(x.startswith(f"ok {tmp_path / 'c.toml'}") for x in lines)
    assert "Traceback" not in result.output
