"""Piped output is never wrapped at 80 columns, whichever package's command prints it."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("module", ["missions.cli", "missions.cli_durable", "personas.cli_support"])
def test_module_consoles_do_not_wrap_when_piped(module: str) -> None:
    console = __import__(module, fromlist=["console"]).console
    assert not console.is_terminal
    line = "run-" + "x" * 200
    with console.capture() as captured:
        console.print(line, markup=False, highlight=False)
    assert captured.get() == line + "\n"
