"""Live events on the wire between appliance processes: frozen dataclasses of plain JSON
values, registered by name so any process can rebuild them."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

T = TypeVar("T")

_KINDS: dict[str, type] = {}


def live_event(cls: type[T]) -> type[T]:
    """Class decorator: this dataclass may cross to other appliance processes."""
    assert dataclasses.is_dataclass(cls), cls
    _KINDS[cls.__name__] = cls
    return cls


def is_wire_event(event: Any) -> bool:
    return type(event).__name__ in _KINDS and type(event) is _KINDS[type(event).__name__]


def encode(event: Any, origin: str) -> bytes:
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    return json.dumps(
        {"kind": type(event).__name__, "origin": origin, "fields": fields}, separators=(",", ":")
    ).encode()


def decode(raw: bytes) -> tuple[str, Any] | None:
    """(origin node, event), or None for a message this version does not know."""
    message = json.loads(raw)
    cls = _KINDS.get(message.get("kind", ""))
    if cls is None:
        return None
    return message.get("origin", ""), cls(**message["fields"])
