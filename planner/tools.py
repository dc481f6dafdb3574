"""Tool specs, the call context, the registry and its schema export to every provider."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from planner.errors import ToolRegistryError
from planner.messages import ToolSchema, Usage, redacted_repr_args

Scope = Literal["user-space", "admin"]
PolicyHint = Literal["read", "write", "destructive"]
Invoker = Literal["mission", "mcp", "admin"]

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)

TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
WIRE_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
WIRE_SEPARATOR = "__"
SPACE_HEADER = "x-mana-space"
"""The HTTP header an MCP client names its active space with (gateway and clients)."""


@dataclass(frozen=True)
class ToolContext:
    """Who is calling, in which space, from which run."""

    user_id: str
    space_id: str
    run_id: str = ""
    invoker: Invoker = "mission"
    call_id: str = ""
    """Set per call by dispatch: a stable key for idempotent steps and replays."""
    token_budget_left: int | None = None
    """What is left of the run's token budget when this call starts (None: no budget)."""
    cost_budget_left_usd: float | None = None
    """What is left of the run's cost budget when this call starts (None: no budget)."""
    transcript_path: str = ""
    """The calling run's transcript path; a nested run records under `path/call_id`."""


@dataclass(frozen=True)
class ToolResult:
    """What a tool call returns to the model: success, a message and optional data."""

    success: bool
    message: str
    data: Any = None
    usage: Usage | None = None
    """Model usage (and cost) the tool spent, e.g. a nested run; the loop adds it to the run's
    totals and budgets."""

    def __repr__(self) -> str:
        """Sizes instead of the message and data (logs hold no tool results unless asked)."""
        args = (
            ("success", self.success),
            ("message", self.message),
            ("data", self.data),
            ("usage", self.usage),
        )
        shown = redacted_repr_args(args, frozenset({"message", "data"}))
        return f"ToolResult({', '.join(f'{k}={v!r}' for k, v in shown)})"


@dataclass(frozen=True)
class ToolSpec(Generic[In, Out]):
    """A tool: name `module.verb`, pydantic input/output models and an async handler."""

    name: str
    description: str
    input_model: type[In]
    output_model: type[Out]
    handler: Callable[[ToolContext, In], Awaitable[Out]]
    scope: Scope = "user-space"
    policy_hint: PolicyHint = "write"
    """`read` tools may run in parallel and run in plan-only; a tool that does not say is a
    `write` (run alone, staged as a proposal in plan-only)."""
    timeout_s: float = 30.0
    idempotent: bool = False
    input_schema_override: dict[str, Any] | None = field(default=None, compare=False)
    parallel_safe_for: Callable[[dict[str, Any]], bool] | None = field(default=None, compare=False)
    """Per-call parallel safety from the arguments (the `task` tool), on top of the predicate."""
    nested_run: bool = False
    """The handler runs a nested planner loop; a durable engine runs such calls one at a time."""

    @classmethod
    def from_function(cls, fn: Callable[..., Any], **options: Any) -> ToolSpec[Any, Any]:
        """A spec from a typed function's signature and docstring (see planner.functions)."""
        from planner.functions import spec_from_function

        return spec_from_function(fn, **options)

    @cached_property
    def input_schema(self) -> dict[str, Any]:
        """The JSON Schema of the tool's input (computed once per spec)."""
        if self.input_schema_override is not None:
            return self.input_schema_override
        return self.input_model.model_json_schema()

    @cached_property
    def schema(self) -> ToolSchema:
        """The provider-neutral schema a model request carries."""
        return ToolSchema(
            name=self.name, description=self.description, input_schema=self.input_schema
        )


AnyToolSpec = ToolSpec[Any, Any]


def to_wire_name(name: str) -> str:
    """Map a registry name (`todo.create`) to a provider-legal name (`todo__create`)."""
    return name.replace(".", WIRE_SEPARATOR)


def from_wire_name(wire: str) -> str:
    """Map a provider tool name back to the registry name; the inverse of to_wire_name."""
    return wire.replace(WIRE_SEPARATOR, ".")


def check_tool_name(name: str) -> None:
    """Raise ToolRegistryError unless `name` maps to a legal, reversible wire name."""
    if not TOOL_NAME_RE.match(name):
        raise ToolRegistryError(f"tool name {name!r} must be dot-separated [A-Za-z0-9_-] parts")
    if WIRE_SEPARATOR in name:
        raise ToolRegistryError(f"tool name {name!r} must not contain {WIRE_SEPARATOR!r}")
    wire = to_wire_name(name)
    if not WIRE_NAME_RE.match(wire):
        raise ToolRegistryError(
            f"tool name {name!r} maps to {wire!r}, longer than the 64 characters providers allow"
        )


class ToolRegistry:
    """An ordered, name-keyed set of tools with one schema export per protocol."""

    def __init__(self, specs: Iterable[AnyToolSpec] = ()) -> None:
        self._specs: dict[str, AnyToolSpec] = {}
        wires: dict[str, str] = {}
        for spec in specs:
            check_tool_name(spec.name)
            if spec.name in self._specs:
                raise ToolRegistryError(f"tool {spec.name!r} is registered twice")
            wire = to_wire_name(spec.name)
            if wire in wires:
                raise ToolRegistryError(
                    f"tools {wires[wire]!r} and {spec.name!r} map to the same wire name {wire!r}"
                )
            wires[wire] = spec.name
            self._specs[spec.name] = spec
        self._schemas = tuple(s.schema for s in self._specs.values())

    def get(self, name: str) -> AnyToolSpec | None:
        """The tool called `name`, or None."""
        return self._specs.get(name)

    def __iter__(self) -> Iterator[AnyToolSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    @property
    def names(self) -> list[str]:
        """Tool names in registration order."""
        return list(self._specs)

    def filter(self, keep: Callable[[AnyToolSpec], bool]) -> ToolRegistry:
        """A new registry holding the tools `keep` accepts."""
        return ToolRegistry(s for s in self._specs.values() if keep(s))

    def merged(self, other: Iterable[AnyToolSpec]) -> ToolRegistry:
        """A new registry with the tools of both (names must not clash)."""
        return ToolRegistry([*self._specs.values(), *other])

    def schemas(self) -> tuple[ToolSchema, ...]:
        """Provider-neutral schemas, as a model request carries them."""
        return self._schemas

    def to_anthropic(self) -> list[dict[str, Any]]:
        """Anthropic Messages `tools` entries."""
        return [anthropic_tool(s) for s in self.schemas()]

    def to_openai(self) -> list[dict[str, Any]]:
        """OpenAI Chat Completions function tools."""
        return [openai_chat_tool(s) for s in self.schemas()]

    def to_openai_responses(self) -> list[dict[str, Any]]:
        """OpenAI Responses API function tools."""
        return [openai_responses_tool(s) for s in self.schemas()]

    def to_mcp(self) -> list[dict[str, Any]]:
        """MCP tool definitions (dotted names kept), with annotations from the specs."""
        return [
            {
                "name": s.name,
                "description": s.description,
                "inputSchema": s.input_schema,
                "annotations": mcp_annotations(s),
            }
            for s in self._specs.values()
        ]


def anthropic_tool(schema: ToolSchema) -> dict[str, Any]:
    """One Anthropic tool definition."""
    return {
        "name": to_wire_name(schema.name),
        "description": schema.description,
        "input_schema": schema.input_schema,
    }


def openai_chat_tool(schema: ToolSchema) -> dict[str, Any]:
    """One Chat Completions function tool."""
    return {
        "type": "function",
        "function": {
            "name": to_wire_name(schema.name),
            "description": schema.description,
            "parameters": schema.input_schema,
        },
    }


def openai_responses_tool(schema: ToolSchema) -> dict[str, Any]:
    """One Responses API function tool."""
    return {
        "type": "function",
        "name": to_wire_name(schema.name),
        "description": schema.description,
        "parameters": schema.input_schema,
    }


def mcp_annotations(spec: AnyToolSpec) -> dict[str, bool]:
    """MCP hints derived from the spec: read-only, destructive, idempotent."""
    return {
        "readOnlyHint": spec.policy_hint == "read",
        "destructiveHint": spec.policy_hint == "destructive",
        "idempotentHint": spec.idempotent or spec.policy_hint == "read",
    }


def read_tools_are_parallel_safe(spec: AnyToolSpec) -> bool:
    """The usual `is_parallel_safe` predicate: reads may run concurrently."""
    return spec.policy_hint == "read"
