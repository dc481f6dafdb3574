"""Persona simulations: LLM personas that use the app through the MCP gateway, then rate it.

Every name is imported from its module on first use.
"""

from typing import TYPE_CHECKING

from planner import lazy_exports

if TYPE_CHECKING:
    from personas.errors import PersonaConfigError, PersonaError
    from personas.report import (
        ReportData,
        error_rates_chart,
        fmt_rating,
        load_report,
        ratings_chart,
        table_rows,
        tool_mix_chart,
    )
    from personas.store import SessionRecord, SqlPersonaStore

__getattr__ = lazy_exports(
    __name__,
    {
        "personas.errors": ("PersonaConfigError", "PersonaError"),
        "personas.report": (
            "ReportData",
            "error_rates_chart",
            "fmt_rating",
            "load_report",
            "ratings_chart",
            "table_rows",
            "tool_mix_chart",
        ),
        "personas.store": ("SessionRecord", "SqlPersonaStore"),
    },
)

__all__ = [
    "PersonaConfigError",
    "PersonaError",
    "ReportData",
    "SessionRecord",
    "SqlPersonaStore",
    "error_rates_chart",
    "fmt_rating",
    "load_report",
    "ratings_chart",
    "table_rows",
    "tool_mix_chart",
]
