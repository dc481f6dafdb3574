"""Missions: mission files, durable runs on DBOS, schedules, plan-only proposals and the run store.

Every name is imported from its module on first use, so reading the run store does not start
DBOS and `mana-planner --help` imports none of it.
"""

from typing import TYPE_CHECKING

from planner import lazy_exports

if TYPE_CHECKING:
    from missions.app import App, AppSettings, open_app
    from missions.app_env import app_engine
    from missions.config import (
        BASE_DIR,
        EVERY_RE,
        EVERY_UNITS,
        PATH_PREFIXES,
        MissionConfig,
        load_mission,
        load_toml,
        model_spec,
        validate_file,
    )
    from missions.dbos_host import HOST, DurableHost
    from missions.errors import DurableError, MissionConfigError, MissionError
    from missions.otel_export import start_otlp_export
    from missions.planonly import approve, reject
    from missions.runner import build_input
    from missions.runview import out_console
    from missions.schedule import every_to_cron
    from missions.schedule_dbos import QUEUE_POLL_S
    from missions.store import Proposal, ProposalStateError, RunRecord, SqlRunStore, run_columns
    from missions.system_db import safe_url

__getattr__ = lazy_exports(
    __name__,
    {
        "missions.app": ("App", "AppSettings", "open_app"),
        "missions.app_env": ("app_engine",),
        "missions.config": (
            "BASE_DIR",
            "EVERY_RE",
            "EVERY_UNITS",
            "PATH_PREFIXES",
            "MissionConfig",
            "load_mission",
            "load_toml",
            "model_spec",
            "validate_file",
        ),
        "missions.dbos_host": ("HOST", "DurableHost"),
        "missions.errors": ("DurableError", "MissionConfigError", "MissionError"),
        "missions.otel_export": ("start_otlp_export",),
        "missions.planonly": ("approve", "reject"),
        "missions.runner": ("build_input",),
        "missions.runview": ("out_console",),
        "missions.schedule": ("every_to_cron",),
        "missions.schedule_dbos": ("QUEUE_POLL_S",),
        "missions.store": (
            "Proposal",
            "ProposalStateError",
            "RunRecord",
            "SqlRunStore",
            "run_columns",
        ),
        "missions.system_db": ("safe_url",),
    },
)

__all__ = [
    "BASE_DIR",
    "EVERY_RE",
    "EVERY_UNITS",
    "HOST",
    "PATH_PREFIXES",
    "QUEUE_POLL_S",
    "App",
    "AppSettings",
    "DurableError",
    "DurableHost",
    "MissionConfig",
    "MissionConfigError",
    "MissionError",
    "Proposal",
    "ProposalStateError",
    "RunRecord",
    "SqlRunStore",
    "app_engine",
    "approve",
    "build_input",
    "every_to_cron",
    "load_mission",
    "load_toml",
    "model_spec",
    "open_app",
    "out_console",
    "reject",
    "run_columns",
    "safe_url",
    "start_otlp_export",
    "validate_file",
]
