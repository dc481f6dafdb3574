"""The example missions shipped with the package, found by id from any working directory."""

from __future__ import annotations

from pathlib import Path

from planner import shipped_config

DEMO_MISSION_ID = "weekly-review"


def shipped_mission(mission_id: str) -> Path:
    """The shipped example mission file with this id (it may not exist)."""
    return shipped_config(f"missions/{mission_id}.toml")


def find_mission(target: Path) -> Path:
    """`target` when it is a file; else, for a bare id like `notes-digest`, the shipped one."""
    if target.exists() or len(target.parts) != 1:
        return target
    shipped = shipped_mission(target.stem if target.suffix == ".toml" else target.name)
    return shipped if shipped.is_file() else target
