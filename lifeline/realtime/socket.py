"""What every console and client socket shares: its writer task, bounded JSON messages,
a rate limit, acknowledgements, and an Origin check against cross-site hijacking."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import lifeline_protocol.binary as binary
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from lifeline.db.base import MAX_ID
from lifeline.realtime.hub import Peer
from lifeline.text import parse_json

log = logging.getLogger("lifeline.realtime")

MAX_MESSAGE = 64 * 1024
RATE_PER_SECOND = 30
HELLO_TIMEOUT = 15.0

# Close codes (4000-4999 are ours; see docs/realtime.md).
CLOSE_UNAUTHORIZED = 4401
CLOSE_BAD_HELLO = 4400
CLOSE_GONE = 4410  # the connection or session is over; do not try to resume
CLOSE_TOO_SLOW = 4408
CLOSE_REPLACED = 4409


class ProtocolError(Exception):
    """A message that is not part of the protocol: answered with an error, the socket stays."""


def same_origin(websocket: WebSocket) -> bool:
    """Browsers send Origin on WebSocket upgrades; a page of another site must not ride our cookies."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser (tests, tools); cookies are then the caller's own
    host = websocket.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


# What a socket that sends a stream does with each of its binary frames (checked header,
# the frame as it came). None, as for every socket today: binary frames are refused.
FrameHandler = Callable[[binary.Header, bytes], None]


async def receive_message(
    websocket: WebSocket, *, timeout: float | None = None, frames: FrameHandler | None = None
) -> dict[str, Any]:
    """The next message. Anything but a JSON object with a type in a text frame is a
    ProtocolError (binary frames included, unless `frames` takes them: Starlette's
    receive_text would fail on them)."""
    while True:
        frame = await (asyncio.wait_for(websocket.receive(), timeout) if timeout else websocket.receive())
        if frame["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(frame.get("code", 1000), frame.get("reason"))
        data = frame.get("bytes")
        if frames is None or not isinstance(data, bytes):
            break
        try:
            frames(binary.unpack_header(data), data)
        except binary.FrameError as error:
            raise ProtocolError(str(error)) from None
    text = frame.get("text")
    if not isinstance(text, str):
        raise ProtocolError("messages are JSON objects in text frames")
    if len(text) > MAX_MESSAGE:
        raise ProtocolError(f"messages are limited to {MAX_MESSAGE} bytes")
    try:
        message = parse_json(text)
    except ValueError:
        raise ProtocolError("messages are JSON objects") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("messages are JSON objects with a type")
    return message


async def _write(websocket: WebSocket, peer: Peer) -> None:
    while True:
        message = await peer.next_out()
        if message is None:
            code = CLOSE_TOO_SLOW if peer.overflowed else peer.close_code
            with contextlib.suppress(Exception):
                await websocket.close(code, peer.close_reason or None)
            return
        if isinstance(message, bytes):
            await websocket.send_bytes(message)
        else:
            await websocket.send_text(message)


async def run_peer(
    websocket: WebSocket,
    peer: Peer,
    handle: Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]],
    frames: FrameHandler | None = None,
) -> str:
    """Serve one socket until it closes. Returns why: "closed" (client or network) or "done"
    (a handler asked to finish, e.g. logout). `frames`: see FrameHandler."""
    writer = asyncio.create_task(_write(websocket, peer))
    window_start, count = time.monotonic(), 0
    try:
        while True:
            try:
                message = await receive_message(websocket, frames=frames)
            except ProtocolError as error:
                peer.send({"type": "error", "error": str(error)})
                continue
            now = time.monotonic()
            if now - window_start > 1:
                window_start, count = now, 0
            count += 1
            if count > RATE_PER_SECOND:
                peer.send({"type": "error", "ref": message.get("ref"), "error": "too many messages; slow down"})
                continue
            if message["type"] == "ping":
                peer.send({"type": "pong", "at": time.time()})
                continue
            try:
                reply = await handle(message)
            except ProtocolError as error:
                reply = {"type": "ack", "ref": message.get("ref"), "ok": False, "error": str(error)}
            except Exception:
                log.exception("console/client message %r failed", message.get("type"))
                reply = {"type": "ack", "ref": message.get("ref"), "ok": False, "error": "internal error; logged"}
            if reply is not None:
                if reply.get("type") == "done":
                    return "done"
                peer.send(reply)
    except (WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
        return "closed"
    except Exception:
        # Whatever went wrong, the socket is over; the caller still lets go of its peer.
        log.exception("a socket failed")
        return "closed"
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        if websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()


TYPING_EVERY_SECONDS = 2.0  # "is typing" signals passed on per person and session, at most


class TypingThrottle:
    """One "is typing" signal per session every TYPING_EVERY_SECONDS; the rest are dropped
    (the clients send one every few seconds while someone types; a flood goes nowhere)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def due(self, lsid: str) -> bool:
        now = time.monotonic()
        if now - self._last.get(lsid, -TYPING_EVERY_SECONDS) < TYPING_EVERY_SECONDS:
            return False
        if len(self._last) > 100:
            self._last.clear()  # a console in many sessions over a day: forget old ones
        self._last[lsid] = now
        return True


def ack(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "ack", "ref": message.get("ref"), "ok": True, **extra}


def text_field(message: dict[str, Any], name: str, limit: int, *, required: bool = True) -> str:
    value = message.get(name, "")
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be text")
    if required and not value:
        raise ProtocolError(f"{name} is missing")
    if len(value) > limit:
        raise ProtocolError(f"{name} is longer than {limit} characters")
    return value


def id_field(message: dict[str, Any], name: str) -> int:
    """A record's id: a whole number (not true or false) that an id can be."""
    value = message.get(name)
    # Ids are 32-bit in the database; past that a lookup fails instead of finding nothing.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise ProtocolError(f"{name} must be a number")
    return value


def ref_of(message: dict[str, Any]) -> str | None:
    ref = message.get("ref")
    if ref is None:
        return None
    if not isinstance(ref, str) or not 0 < len(ref) <= 64:
        raise ProtocolError("ref must be text of at most 64 characters")
    return ref


def survey_answers(message: dict[str, Any]) -> dict[int, list[str]]:
    """`answers`: question id -> list of answers (one for most questions, several for checkboxes)."""
    raw = message.get("answers")
    if not isinstance(raw, dict) or len(raw) > 100:
        raise ProtocolError("answers must be an object of question id to a list of answers")
    answers: dict[int, list[str]] = {}
    for key, values in raw.items():
        if not str(key).isdigit() or not isinstance(values, list) or len(values) > 50:
            raise ProtocolError("answers must be an object of question id to a list of answers")
        answers[int(key)] = [str(v)[:4096] for v in values if isinstance(v, str | int)]
    return answers
