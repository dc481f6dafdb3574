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
