"""Small pieces every provider adapter shares: argument parsing and API keys."""

from __future__ import annotations

import json
import os
from typing import Any

from planner.errors import MissingApiKeyError


def parse_arguments(raw: str | dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """Tool-call arguments as a dict, plus an error text when they are not a JSON object."""
    if isinstance(raw, dict):
        return raw, None
    if raw is None or not raw.strip():
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not valid JSON: {exc.msg} at position {exc.pos}: {raw[:200]!r}"
    if not isinstance(value, dict):
        return {}, f"arguments are not a JSON object (got {type(value).__name__}): {raw[:200]!r}"
    return value, None


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
