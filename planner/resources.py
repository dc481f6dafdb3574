"""Where the shipped configs are: the repo's `configs/` folder, installed as package data.

The wheel maps `configs/` to the data package `mana_planner_configs` (see setup.py), so an
installed copy finds the price table, the demo steps and the example missions through the
import system from any working directory; an editable install maps it to the checkout. (It
is a namespace package, which `importlib.resources.files` cannot open under an editable
install on Python 3.11, so the package's search path is read instead.)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

CONFIGS_PACKAGE = "mana_planner_configs"
CHECKOUT_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def shipped_configs() -> Path:
    """The shipped configs folder (a checkout's `configs/` when the package is not installed)."""
    spec = importlib.util.find_spec(CONFIGS_PACKAGE)
    for location in (spec.submodule_search_locations or ()) if spec else ():
        if Path(location).is_dir():
            return Path(location)
    return CHECKOUT_CONFIGS


def shipped_config(relative: str) -> Path:
    """One shipped file, e.g. `missions/weekly-review.toml` or `models.toml`."""
    return shipped_configs() / relative
