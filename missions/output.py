"""A mission's `output = "pkg.module:Model"`: the pydantic model its answer is validated into,
imported like `tool_modules` are, with the mission file's folder searched first."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from missions.config import MissionConfig
from missions.errors import MissionConfigError
from missions.toolmodules import _searched_first, where
from planner import OutputModelError, RecordedRun, import_output_model


def _imported(ref: str, folder: Path | None, label: str) -> type[BaseModel]:
    with _searched_first(folder):
        try:
            return import_output_model(ref)
        except OutputModelError as exc:
            raise MissionConfigError(f"{label}: {exc}") from exc


def mission_output_model(cfg: MissionConfig, mission_path: Path | None) -> type[BaseModel] | None:
    """The mission's output model, or None for a text answer; MissionConfigError naming the
    file, the field and the reference when it does not import as a pydantic model."""
    if cfg.output is None:
        return None
    folder = mission_path.parent if mission_path else None
    return _imported(cfg.output, folder, f"{where(cfg, mission_path)}: output")


def recorded_output_model(run: RecordedRun, transcript: Path) -> type[BaseModel] | None:
    """The output model a mission transcript names, imported with the recorded mission's
    folder searched first (so a model module beside the mission file is found)."""
    info = run.started.output
    if not info:
        return None
    mission_path = run.started.settings.get("mission_path")
    folder = Path(mission_path).parent if mission_path else None
    return _imported(str(info.get("ref", "")), folder, f"{transcript}: run_started.output")
