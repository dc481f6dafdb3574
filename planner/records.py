"""The transcript's write path: msgspec records built without validation, encoded by msgspec.

The hot events of a run (a request and a response each round, a tool call, a policy decision
and a result each call) are built as msgspec structs derived from their pydantic event models:
same field names, order and defaults, so their JSON lines are what the reader's models parse.
Consumers that want the typed pydantic event (memory transcripts, live sinks) convert with
`as_event`. Anything msgspec cannot encode goes through the pydantic event instead, so the
writer refuses exactly what it refused before.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

import msgspec
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from planner.messages import Message, ToolCall, Usage


class EventRecord(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """Base of every write-side record; `model` is the pydantic event it stands for.

    Not tracked by the cycle collector (gc=False): a record holds plain data that never
    refers back to it, so it cannot be part of a cycle.
    """

    model: ClassVar[type[BaseModel]]


_PLAIN_MODELS = frozenset({Message, ToolCall, Usage})
"""Models whose field values, in order, are their JSON (no aliases, serializers or computed
fields): msgspec encodes their `__dict__` directly, a fifth of pydantic's serializer's cost."""


def _raw_model(obj: Any) -> Any:
    """msgspec's hook for what it does not know: nested pydantic models as their own JSON."""
    if type(obj) in _PLAIN_MODELS:
        return obj.__dict__
    if isinstance(obj, BaseModel):
        return msgspec.Raw(obj.__pydantic_serializer__.to_json(obj))
    raise TypeError(f"a {type(obj).__name__} is not transcript data")


_ENCODER = msgspec.json.Encoder(enc_hook=_raw_model)
encode_fast = _ENCODER.encode
"""A record as its JSON bytes (no newline); raises one of FAST_ENCODE_ERRORS when it cannot."""
FAST_ENCODE_ERRORS = (TypeError, ValueError, OverflowError, RecursionError, msgspec.EncodeError)


@cache
def record_class(model: type[BaseModel]) -> type[EventRecord]:
    """The msgspec record for a pydantic event model: its fields, order and defaults."""
    fields: list[tuple[str, Any, Any]] = []
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            default: Any = msgspec.field(default_factory=info.default_factory)  # type: ignore[arg-type]
        elif info.default is PydanticUndefined:
            default = msgspec.NODEFAULT
        else:
            default = info.default
        fields.append((name, Any, default))
    cls: type[EventRecord] = msgspec.defstruct(  # type: ignore[assignment]
        f"{model.__name__}Record",
        [(n, t) if d is msgspec.NODEFAULT else (n, t, d) for n, t, d in fields],
        bases=(EventRecord,),
        kw_only=True,
        frozen=True,
        module=__name__,
    )
    cls.model = model
    return cls


def as_event(event: Any) -> Any:
    """The typed pydantic event for a record (validated now); a pydantic event as it is."""
    if isinstance(event, EventRecord):
        return event.model(**msgspec.structs.asdict(event))
    return event
