"""Small pieces every provider adapter shares: argument parsing and API keys."""

from __future__ import annotations

import json
import os
from typing import Any

from planner.errors import MissingApiKeyError
from planner.jsondata import json_problem


def parse_arguments(raw: str | dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """Tool-call arguments as a dict, plus an error text when they are not a JSON object of
    plain JSON data within MAX_JSON_DEPTH levels; never raises, whatever `raw` holds."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, None
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            return (
                {},
                f"arguments are not valid JSON: {exc.msg} at position {exc.pos}: {raw[:200]!r}",
            )
        except (RecursionError, ValueError) as exc:
            return {}, f"arguments are not valid JSON: {exc.__class__.__name__}: {raw[:200]!r}"
    if not isinstance(value, dict):
        return (
            {},
            f"arguments are not a JSON object (got {type(value).__name__}): {str(raw)[:200]!r}",
        )
    problem = json_problem(value)
    if problem is not None:
        return {}, f"arguments: {problem}"
    return value, None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def arguments_json(arguments: dict[str, Any]) -> str:
    """Arguments as the JSON string OpenAI APIs carry (stable for identical dicts)."""
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))


def require_api_key(explicit: str | None, variable: str, provider: str) -> str:
    """The explicit key, else the environment variable; MissingApiKeyError naming it if neither."""
    key = explicit or os.environ.get(variable)
    if not key:
        raise MissingApiKeyError(variable, provider)
    return key


def as_dict(sdk_object: Any) -> dict[str, Any]:
    """An SDK response object as plain JSON data (None fields left out, no shape warnings)."""
    data: dict[str, Any] = sdk_object.to_dict(mode="json", exclude_none=True, warnings=False)
    return data
