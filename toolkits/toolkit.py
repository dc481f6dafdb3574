"""Declarative tools: methods of a Toolkit class marked with @tool_method become ToolSpecs.

A handler is a named method with a docstring (tracebacks read `TodoTools.create`), its input
and output models come from its annotations, and what the model sees (name, description,
policy hint) is stated once in the decorator. `@once` under `@tool_method` makes a write tool
effectively-once on `ctx.call_id` (see toolkits/ledger.py and docs/tools.md).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from pydantic import BaseModel

from planner import AnyToolSpec, PolicyHint, Scope, ToolContext, ToolSpec
from toolkits.crypto import FieldCipher
from toolkits.errors import ToolDefinitionError
from toolkits.ledger import CallLedger
from toolkits.scope import ScopedSession
from toolkits.store import Store

TOOL_ATTR = "__mana_tool__"
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
Out = TypeVar("Out", bound=BaseModel)
Work = Callable[[Any, ScopedSession, Any], Awaitable[Out]]


@dataclass(frozen=True)
class ToolMeta:
    """What @tool_method declares about a handler: everything of its ToolSpec but the models."""

    name: str
    description: str
    policy_hint: PolicyHint
    scope: Scope = "user-space"
    idempotent: bool = False
    timeout_s: float = 30.0


def tool_method(
    name: str,
    description: str,
    *,
    policy_hint: PolicyHint,
    scope: Scope = "user-space",
    idempotent: bool = False,
    timeout_s: float = 30.0,
) -> Callable[[F], F]:
    """Declare a method the handler of tool `name`; the hint is required, so none defaults."""
    meta = ToolMeta(name, description, policy_hint, scope, idempotent, timeout_s)

    def mark(method: F) -> F:
        setattr(method, TOOL_ATTR, meta)
        return method

    return mark


def once(method: Work[Out]) -> Callable[[Any, ToolContext, Any], Awaitable[Out]]:
    """Run a `(self, session, inp)` handler effectively-once on ctx.call_id via `self.ledger`.

    The handler's writes and the ledger's record of its result commit in one transaction; a
    second execution of the same call id returns the recorded result and runs nothing.
    """
    resolved: list[type[Out]] = []  # the return model, once the module's names exist

    @functools.wraps(method)
    async def handler(self: Toolkit, ctx: ToolContext, inp: BaseModel) -> Out:
        if not resolved:
            resolved.append(get_type_hints(method)["return"])
        meta: ToolMeta | None = getattr(handler, TOOL_ATTR, None)
        name = meta.name if meta is not None else method.__qualname__
        return await self.ledger.run(ctx, name, inp, resolved[0], lambda s: method(self, s, inp))

    return handler


class Toolkit:
    """A group of tools over one store: every method marked @tool_method, in definition order."""

    def __init__(self, store: Store, cipher: FieldCipher) -> None:
        self.store = store
        self.cipher = cipher
        self.ledger = CallLedger(store, cipher)

    def specs(self) -> list[AnyToolSpec]:
        """This toolkit's ToolSpecs, handlers bound to this instance."""
        return [
            _spec(getattr(self, attr), getattr(fn, TOOL_ATTR))
            for attr, fn in _members(type(self))
            if hasattr(fn, TOOL_ATTR)
        ]


def _members(cls: type) -> list[tuple[str, Any]]:
    """Attributes of `cls` and its bases, base classes first, each in definition order."""
    seen: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        seen.update(vars(klass))
    return list(seen.items())


def _spec(handler: Callable[..., Awaitable[Any]], meta: ToolMeta) -> AnyToolSpec:
    """The ToolSpec of one marked handler; its models come from the annotations."""
    target = inspect.unwrap(handler)
    hints = get_type_hints(target)
    params = list(inspect.signature(target).parameters)
    input_model = _model(meta, target, "input", hints.get(params[-1]) if params else None)
    output_model = _model(meta, target, "output", hints.get("return"))
    return ToolSpec(
        name=meta.name,
        description=meta.description,
        input_model=input_model,
        output_model=output_model,
        handler=handler,
        scope=meta.scope,
        policy_hint=meta.policy_hint,
        timeout_s=meta.timeout_s,
        idempotent=meta.idempotent,
    )


def _model(meta: ToolMeta, target: Callable[..., Any], what: str, hint: Any) -> type[BaseModel]:
    """The annotated pydantic model of a handler's input or output, or ToolDefinitionError."""
    if not (isinstance(hint, type) and issubclass(hint, BaseModel)):
        raise ToolDefinitionError(
            f"tool {meta.name!r}: the handler {target.__qualname__} must annotate its "
            f"{what} with a pydantic model, got {hint!r}"
        )
    return hint
