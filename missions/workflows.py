"""The missions' DBOS workflows: a run, and a schedule's firing.

They are module-level (DBOS finds a recovered workflow by its registered name) and run with
the engine attached to this process's host.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbos import DBOS

from missions.dbos_host import HOST
from missions.engine_types import RunRequest
from missions.errors import EngineStateError
from missions.runner import MissionRun

RUN_WORKFLOW = "mana.mission_run"
SCHEDULED_WORKFLOW = "mana.scheduled_run"


def current_run_id() -> str:
    """The workflow id of the running workflow: the run id."""
    run_id = DBOS.workflow_id
    if run_id is None:
        raise EngineStateError("a mission workflow ran outside a DBOS workflow context")
    return run_id


@DBOS.workflow(name=RUN_WORKFLOW)
async def mission_workflow(request: dict[str, Any]) -> MissionRun:
    """One mission run; its workflow id is the run id."""
    return await HOST.engine.execute(RunRequest.model_validate(request), current_run_id())


@DBOS.workflow(name=SCHEDULED_WORKFLOW)
async def scheduled_workflow(scheduled_at: datetime, context: dict[str, Any]) -> None:
    """The workflow every mission schedule fires; its id (the run id) is per slot."""
    await HOST.engine.execute_scheduled(scheduled_at, context)
