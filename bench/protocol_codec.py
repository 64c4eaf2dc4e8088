"""The live protocol's codec, two ways: msgspec Structs against frozen dataclasses read and
written with the standard library's json (validated by hand, as the appliance did).

    .venv/bin/python -m bench.protocol_codec [--rounds 200000]

Times decoding and validating a console's chat request, and encoding one event message
(a chat line, as the hub sends it to every follower of a session). Prints microseconds per
message; docs/decisions.md has the figures and what they decided.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from lifeline_protocol import console, decode_console_request, encode
from lifeline_protocol.common import MAX_CHAT, MAX_LSID, MAX_REF, Event, event_records

CHAT = json.dumps({"type": "chat", "ref": "5f1c2a9be0d34c7a8f6e1b2d", "lsid": "a" * 32, "body": "Hello, " * 12})
EVENT = {
    "id": 123456,
    "type": "Chat Message",
    "at": 1733390000.123456,
    "performed_by": {"type": "representative", "gsnumber": 42, "name": "Alice Rep"},
    "destination": None,
    "body": "Could you open the settings page and tell me what it says under Network?",
    "filename": None,
    "filesize": None,
    "file_id": None,
    "data": [],
    "ref": "5f1c2a9be0d34c7a8f6e1b2d",
}


@dataclass(frozen=True)
class ChatRequest:
    lsid: str
    body: str
    ref: str | None = None

    def __post_init__(self) -> None:
        _text(self.lsid, "lsid", MAX_LSID)
        _text(self.body, "body", MAX_CHAT)
        if self.ref is not None and (not isinstance(self.ref, str) or not 0 < len(self.ref) <= MAX_REF):
            raise ValueError("ref must be text of at most 64 characters")


@dataclass(frozen=True)
class EventMessage:
    lsid: str
    event: dict[str, Any]
    type: str = "event"


def _text(value: object, name: str, limit: int) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    if not value:
        raise ValueError(f"{name} is missing")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")


def dataclass_decode(text: str) -> ChatRequest:
    raw = json.loads(text)
    if not isinstance(raw, dict) or raw.get("type") != "chat":
        raise ValueError("messages are JSON objects with a type")
    return ChatRequest(lsid=raw.get("lsid", ""), body=raw.get("body", ""), ref=raw.get("ref"))


def msgspec_decode(text: str) -> Any:
    request = decode_console_request(text)
    assert isinstance(request, console.Chat)
    return request


def dataclass_encode() -> str:
    return json.dumps(asdict(EventMessage("a" * 32, EVENT)), separators=(",", ":"))


def dataclass_encode_by_hand() -> str:
    """Without asdict's deep copy: the fields into a dict, as the hub built its messages."""
    message = EventMessage("a" * 32, EVENT)
    return json.dumps({"type": message.type, "lsid": message.lsid, "event": message.event}, separators=(",", ":"))


def msgspec_encode() -> bytes:
    """As the hub does: the event (plain data off the bus) into its record, then encoded."""
    (record,) = event_records([EVENT])
    return encode(Event(lsid="a" * 32, event=record))


def per_call(work: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            work()
        best = min(best, time.perf_counter() - start)
    return best / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200_000, help="messages per timing (best of 5)")
    rounds = parser.parse_args().rounds
    rows = [
        ("decode+validate chat request", lambda: dataclass_decode(CHAT), lambda: msgspec_decode(CHAT)),
        ("encode event message (asdict)", dataclass_encode, msgspec_encode),
        ("encode event message (by hand)", dataclass_encode_by_hand, msgspec_encode),
    ]
    print(f"{'':32} {'dataclass+json':>15} {'msgspec':>10}  (microseconds per message, best of 5)")
    for name, slow, fast in rows:
        a, b = per_call(slow, rounds), per_call(fast, rounds)
        print(f"{name:32} {a:15.2f} {b:10.2f}  ({a / b:.1f}x)")


if __name__ == "__main__":
    main()
