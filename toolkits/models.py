"""The base of every tool input and output model: camelCase on the wire, strict inputs."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ToolModel(BaseModel):
    """Fields are snake_case in Python and camelCase in JSON; unknown input fields are errors."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        str_strip_whitespace=True,
    )


class NoInput(ToolModel):
    """A tool that takes no arguments."""


def to_datetime(ms: int | None) -> datetime | None:
    """A stored millisecond timestamp as an aware UTC datetime."""
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def require_datetime(ms: int) -> datetime:
    """Like to_datetime, for columns that are never null."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
