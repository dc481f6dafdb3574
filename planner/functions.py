"""Tools from typed functions: `@tool(...)` and `ToolSpec.from_function(fn, ...)`.

The input model comes from the parameters' type hints and defaults, each parameter's
description from the docstring (Google, NumPy or Sphinx style, parsed by griffe), the tool's
description from the docstring's first paragraph, and the output model from the return
annotation (a pydantic model as it is; any other type is validated as a `RootModel`, so the
tool's data is the plain value). A parameter annotated `ToolContext` receives the call's
context and is not shown to the model. Sync functions run in a worker thread.

    @tool("weather.today", policy_hint="read")
    async def today(city: str, days: int = 1) -> Forecast:
        \"\"\"Today's forecast for a city.

        Args:
            city: City name, e.g. Lisbon.
            days: How many days ahead.
        \"\"\"
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from functools import partial
from typing import Any, TypedDict, Unpack, get_type_hints

import anyio.to_thread
from pydantic import BaseModel, Field, RootModel, create_model

from planner.errors import ToolRegistryError
from planner.tools import AnyToolSpec, PolicyHint, Scope, ToolContext, ToolResult, ToolSpec

DEFAULT_TIMEOUT_S = 30.0
_QUIET = {"warnings": False}
_PER_STYLE: Any = {"google": _QUIET, "numpy": _QUIET, "sphinx": _QUIET}
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


class ToolOptions(TypedDict, total=False):
    """What `@tool` and `ToolSpec.from_function` take besides the function and its name."""

    description: str
    """Instead of the docstring's first paragraph."""
    policy_hint: PolicyHint
    """`read`, `write` (the default) or `destructive`."""
    scope: Scope
    timeout_s: float
    idempotent: bool


def tool(
    name: str | None = None, **options: Unpack[ToolOptions]
) -> Callable[[Callable[..., Any]], AnyToolSpec]:
    """Decorator: the function becomes a ToolSpec (see `spec_from_function`)."""

    def build(fn: Callable[..., Any]) -> AnyToolSpec:
        return spec_from_function(fn, name, **options)

    return build


def spec_from_function(
    fn: Callable[..., Any], name: str | None = None, **options: Unpack[ToolOptions]
) -> AnyToolSpec:
    """A ToolSpec whose input, output and description come from `fn`'s signature and docstring."""
    tool_name = name or fn.__name__
    summary, param_docs = parse_docstring(inspect.getdoc(fn) or "")
    hints = _type_hints(fn, tool_name)
    context_param: str | None = None
    fields: dict[str, Any] = {}
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ToolRegistryError(
                f"tool {tool_name!r}: parameter {param.name!r} must be a plain or keyword "
                "parameter (no *args, **kwargs or positional-only parameters)"
            )
        annotation = hints.get(param.name, Any)
        if annotation is ToolContext:
            context_param = param.name
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, Field(default, description=param_docs.get(param.name)))
    model_name = _camel(tool_name)
    input_model = create_model(f"{model_name}Input", __module__=fn.__module__, **fields)
    output_model = _output_model(hints.get("return", Any), f"{model_name}Output")
    return ToolSpec(
        name=tool_name,
        description=options.get("description") or summary or tool_name,
        input_model=input_model,
        output_model=output_model,
        handler=_handler(fn, list(fields), context_param),
        scope=options.get("scope", "user-space"),
        policy_hint=options.get("policy_hint", "write"),
        timeout_s=options.get("timeout_s", DEFAULT_TIMEOUT_S),
        idempotent=options.get("idempotent", False),
    )


def parse_docstring(text: str) -> tuple[str, dict[str, str]]:
    """A docstring's first paragraph and parameter descriptions (any style griffe knows)."""
    if not text.strip():
        return "", {}
    import griffe  # 30 ms: only when a tool is built from a function

    sections = griffe.parse_auto(griffe.Docstring(text, lineno=1), per_style_options=_PER_STYLE)
    summary = ""
    params: dict[str, str] = {}
    for section in sections:
        if section.kind is griffe.DocstringSectionKind.text and not summary:
            summary = _PARAGRAPH_BREAK.split(str(section.value).strip(), maxsplit=1)[0]
        elif section.kind is griffe.DocstringSectionKind.parameters:
            params.update({p.name: p.description for p in section.value if p.description})
    return " ".join(summary.split()), params


def _type_hints(fn: Callable[..., Any], tool_name: str) -> dict[str, Any]:
    """Resolved annotations of `fn` (string annotations included), or a ToolRegistryError."""
    try:
        return get_type_hints(fn, include_extras=True)
    except (NameError, TypeError) as exc:
        raise ToolRegistryError(
            f"tool {tool_name!r}: cannot resolve its type hints: {exc}"
        ) from exc


def _output_model(annotation: Any, name: str) -> type[BaseModel]:
    """The declared output: a pydantic model as it is, anything else as a RootModel of it."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if annotation is ToolResult or annotation is None or annotation is type(None):
        annotation = Any if annotation is ToolResult else None
    root: type[BaseModel] = create_model(name, __base__=RootModel[annotation])
    return root


def _handler(
    fn: Callable[..., Any], params: list[str], context_param: str | None
) -> Callable[[ToolContext, BaseModel], Any]:
    """The async `(ctx, input)` handler calling `fn` with keyword arguments."""
    is_async = inspect.iscoroutinefunction(fn)

    async def handler(ctx: ToolContext, payload: BaseModel) -> Any:
        kwargs = {p: getattr(payload, p) for p in params}
        if context_param is not None:
            kwargs[context_param] = ctx
        if is_async:
            return await fn(**kwargs)
        return await anyio.to_thread.run_sync(partial(fn, **kwargs), abandon_on_cancel=True)

    return handler


def _camel(tool_name: str) -> str:
    """`todo.create_many` -> `TodoCreateMany` (the generated models' names)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[._-]", tool_name) if part)
