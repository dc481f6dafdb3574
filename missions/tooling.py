"""The tools a mission can pick from, by name patterns."""

from __future__ import annotations

from missions.demo_tools import demo_registry
from planner import ToolRegistry


def available_tools() -> ToolRegistry:
    """Every tool this installation offers to missions."""
    return demo_registry()
