"""Sub-agent kinds named in a mission file, as the engine's SubAgentSpecs."""

from __future__ import annotations

import fnmatch

from missions.config import MissionConfig, SubAgentConfig
from planner import DEFAULT_SUBAGENTS, AnyToolSpec, SubAgentSpec, ToolFilter, from_spec


def _patterns(item: SubAgentConfig) -> ToolFilter:
    def keep(spec: AnyToolSpec) -> bool:
        if item.read_only and spec.policy_hint != "read":
            return False
        return any(fnmatch.fnmatchcase(spec.name, p) for p in item.tools)

    return keep


def subagent_specs(cfg: MissionConfig) -> tuple[SubAgentSpec, ...]:
    """The mission's sub-agent kinds: built-ins by name, tables built with their own model."""
    builtin = {s.name: s for s in DEFAULT_SUBAGENTS}
    specs = []
    for item in cfg.subagents:
        if isinstance(item, str):
            specs.append(builtin[item])
            continue
        specs.append(
            SubAgentSpec(
                name=item.name,
                description=item.description,
                tools=_patterns(item),
                max_rounds=item.max_rounds,
                model=from_spec(item.model) if item.model else None,
                system_prompt=item.system_prompt,
            )
        )
    return tuple(specs)
