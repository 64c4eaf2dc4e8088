"""What every console and client socket shares: its writer task, reading frames into the
protocol's typed messages (lifeline_protocol), a rate limit, acknowledgements, and an
Origin check against cross-site hijacking."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import lifeline_protocol.binary as binary
from lifeline_protocol import CloseCode, InvalidRequest, ProtocolError
from lifeline_protocol.common import NOT_TEXT, RATE_PER_SECOND, TOO_MANY, Ack, Error, Ping, Pong
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from lifeline.db.outage import UNAVAILABLE, database_unavailable
from lifeline.realtime.hub import Peer
from lifeline.runtime import Runtime
from lifeline.sessions import activity
from lifeline.sessions.models import SessionError

log = logging.getLogger("lifeline.realtime")

T = TypeVar("T")

CLOSE_TOO_SLOW = CloseCode.TOO_SLOW

__all__ = [
    "DONE",
    "Done",
    "ProtocolError",
    "TypingThrottle",
    "ack",
    "receive_message",
    "refuse_hello",
    "run_peer",
    "same_origin",
]


class Done:
    """What a handler returns when its socket is finished (logout, bye): nothing is sent."""


DONE = Done()


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
    websocket: WebSocket,
    decode: Callable[[str], T],
    *,
    timeout: float | None = None,
    frames: FrameHandler | None = None,
) -> T:
    """The next message, read by the protocol's `decode`. Anything but a valid message in a
    text frame is a ProtocolError (binary frames included, unless `frames` takes them:
    Starlette's receive_text would fail on them)."""
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
        raise ProtocolError(NOT_TEXT)
    return decode(text)


async def refuse_hello(websocket: WebSocket) -> None:
    """No valid hello came: close with BAD_HELLO, unless the client has gone already (a tab
    closed, a client giving up on a slow node): then there is no one to tell."""
    with contextlib.suppress(Exception):
        await websocket.close(CloseCode.BAD_HELLO)


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
        del message  # not kept while the writer waits: it may be a computer's system information


async def run_peer(
    websocket: WebSocket,
    peer: Peer,
    decode: Callable[[str], T],
    handle: Callable[[T], Awaitable[Ack | Done | None]],
    frames: FrameHandler | None = None,
    weight: Callable[[Any], float] | None = None,
) -> str:
    """Serve one socket until it closes. Returns why: "closed" (client or network) or "done"
    (a handler asked to finish, e.g. logout). `frames`: see FrameHandler. `weight`: what a
    message counts toward the rate limit (1 unless it says less: keys typed into a shell)."""
    writer = asyncio.create_task(_write(websocket, peer))
    rate = _RateWindow()
    try:
        while True:
            if await _serve_next(websocket, peer, decode, handle, frames, weight, rate):
                return "done"
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


class _RateWindow:
    """Messages counted in the current second, toward RATE_PER_SECOND."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.count = 0.0

    def over(self, weight: float) -> bool:
        now = time.monotonic()
        if now - self.start > 1:
            self.start, self.count = now, 0.0
        self.count += weight
        return self.count > RATE_PER_SECOND


async def _serve_next(
    websocket: WebSocket,
    peer: Peer,
    decode: Callable[[str], T],
    handle: Callable[[T], Awaitable[Ack | Done | None]],
    frames: FrameHandler | None,
    weight: Callable[[Any], float] | None,
    rate: _RateWindow,
) -> bool:
    """Read, check and handle the next message; True when the handler says the socket is done.
    Its own call, so nothing of a message outlives it: an idle socket would otherwise keep
    its last one alive (a Lifeline client's system information at start is megabytes)."""
    refused: InvalidRequest | None = None
    try:
        message = await receive_message(websocket, decode, frames=frames)
    except InvalidRequest as error:
        refused = error
    except ProtocolError as error:
        peer.send(Error(error=str(error)))
        return False
    ref = refused.ref if refused is not None else ref_of(message)
    if rate.over(1 if weight is None or refused is not None else weight(message)):
        peer.send(Error(ref=ref, error=TOO_MANY))
        return False
    if refused is not None:
        peer.send(Ack.failed(ref, str(refused)))
        return False
    if isinstance(message, Ping):
        peer.send(Pong(at=time.time()))
        return False
    reply: Ack | Done | None
    try:
        reply = await handle(message)
    except ProtocolError as error:
        reply = Ack.failed(ref, str(error))
    except Exception as error:
        log.exception("console/client message %r failed", type(message).__name__)
        reply = Ack.failed(ref, UNAVAILABLE if database_unavailable(error) else "internal error; logged")
    if reply is DONE:
        return True
    if isinstance(reply, Ack):
        peer.send(reply)
    return False


def ref_of(message: Any) -> str | None:
    """A request's ref (signals such as typing and ping have none)."""
    ref = getattr(message, "ref", None)
    return ref if isinstance(ref, str) else None


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


def ack(request: Any, result: Any = None) -> Ack:
    """The request went through: its answer, under its ref."""
    return Ack.done(ref_of(request), result)


async def write_chat(runtime: Runtime, lsid: str, gsnumber: int, request: Any) -> Ack:
    """A chat line from a customer's or an attendee's socket, logged; its ack carries the
    event's id (a refusal, such as an ended session, is the protocol's error)."""
    try:
        event_id = await runtime.db.write(
            activity.chat, lsid=lsid, gsnumber=gsnumber, body=request.body, client_ref=request.ref
        )
    except SessionError as error:
        raise ProtocolError(str(error)) from None
    return ack(request, event_id)
