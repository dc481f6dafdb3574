"""What wrapping tools as DBOS steps keeps of them: names, hints, schemas, computed once."""

from __future__ import annotations

from pydantic import BaseModel, Field

from missions.durable_steps import STEP_TIMEOUT_MARGIN_S, durable_registry
from planner import ToolContext, ToolRegistry, ToolSpec


class In(BaseModel):
    key: int = Field(description="Which key.")


class Out(BaseModel):
    key: int


async def read(ctx: ToolContext, inp: In) -> Out:
    return Out(key=inp.key)


def test_a_durable_registry_keeps_each_tool_and_reuses_its_schema() -> None:
    spec = ToolSpec("kv.read", "Read a key.", In, Out, read, policy_hint="read", timeout_s=5.0)
    registry = ToolRegistry([spec])
    wrapped = durable_registry(registry)
    (durable,) = list(wrapped)
    assert (durable.name, durable.policy_hint, durable.input_model) == ("kv.read", "read", In)
    assert durable.handler is not spec.handler
    assert durable.timeout_s == 5.0 + STEP_TIMEOUT_MARGIN_S
    # the schema is the one the original computed, not built again for every run's wrapping
    assert durable.input_schema is spec.input_schema
    assert durable.schema == spec.schema
    assert wrapped.names == registry.names
