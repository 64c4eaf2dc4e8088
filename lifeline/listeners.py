"""Connection limits on the listeners, so that no client can hold the appliance for itself.

uvicorn closes an idle kept-alive connection, but waits as long as a client likes for a
request's headers, and takes every connection it can accept; a few thousand half-sent
requests ("slowloris") used up the process's file handles and HTTPS with them. Here each
connection must send its request headers within `header_seconds` of connecting or of its
previous answer (and each piece of a request body within `stall_seconds` of the last),
one client address may hold at most `per_address` connections, and all
together at most `total` (below the file-handle limit, and plain HTTP only a quarter of
it, so HTTPS keeps room). A client that takes nothing of an answer for `stall_seconds`
(the server's sending is paused all that time) is cut off: closing would wait forever to
send what it never reads. When a limit bites the connection is closed at once and the
log says so, at most once per `LOG_EVERY` seconds for each kind of limit.

The limits ride on uvicorn's own protocols (`GuardedHttp`, `GuardedWebSockets` built by
`guarded_protocols`): a WebSocket keeps its place until it closes.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from lifeline.config import Limits

log = logging.getLogger("lifeline.connections")

LOG_EVERY = 10.0
RESERVED_HANDLES = 256  # for the database, files, recordings, backups and the listeners themselves
PLAIN_SHARE = 4  # plain HTTP may hold a quarter of the connections


def connection_cap(limits: Limits) -> int:
    """The total: as configured, or what the file-handle limit leaves after the reserve."""
    if limits.max_connections:
        return limits.max_connections
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1_000_000
    return max(soft - max(RESERVED_HANDLES, soft // 8), 16)


@dataclass
class _Refusals:
    """How often one kind of limit bit since its last log line."""

    count: int = 0
    logged_at: float = float("-inf")


class ConnectionLimits:
    """The open connections of both listeners, by client address."""

    def __init__(self, limits: Limits, total: int) -> None:
        self.header_seconds = limits.header_seconds
        self.stall_seconds = limits.stall_seconds
        self.per_address = limits.per_address
        self.total = total
        self.plain_total = max(total // PLAIN_SHARE, 1)
        self._open: dict[asyncio.BaseTransport, tuple[str, bool]] = {}
        self._by_address: Counter[str] = Counter()
        self._plain = 0
        self._refusals: dict[str, _Refusals] = {}

    def admit(self, transport: asyncio.BaseTransport, address: str, *, plain: bool) -> bool:
        """Count the connection in, or say why not (logged) and return False."""
        if self._by_address[address] >= self.per_address:
            self.note(f"more than {self.per_address} connections from {address}")
            return False
        if len(self._open) >= self.total:
            self.note(f"more than {self.total} connections in all")
            return False
        if plain and self._plain >= self.plain_total:
            self.note(f"more than {self.plain_total} plain HTTP connections")
            return False
        self._open[transport] = (address, plain)
        self._by_address[address] += 1
        self._plain += plain
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        """The connection closed; a second call for it changes nothing."""
        counted = self._open.pop(transport, None)
        if counted is None:
            return
        address, plain = counted
        self._by_address[address] -= 1
        if not self._by_address[address]:
            del self._by_address[address]
        self._plain -= plain

    def note(self, what: str) -> None:
        """Log that a limit bit, once per LOG_EVERY seconds for each kind (an attack
        must not fill the log as well)."""
        kind = what.split(" from ")[0]
        refusals = self._refusals.setdefault(kind, _Refusals())
        refusals.count += 1
        now = time.monotonic()
        if now - refusals.logged_at >= LOG_EVERY:
            log.warning("connection limit: %s; closed %d connection(s) for this since it was last logged",
                        what, refusals.count)  # fmt: skip
            refusals.count = 0
            refusals.logged_at = now


def guarded_protocols(
    limits: ConnectionLimits,
) -> tuple[type[HttpToolsProtocol], type[WebSocketsSansIOProtocol]]:
    """uvicorn's HTTP and WebSocket protocols, counting and timing each connection."""

    class GuardedHttp(HttpToolsProtocol):
        _client_timer: asyncio.TimerHandle | None = None  # waiting for the client to send
        _stall_timer: asyncio.TimerHandle | None = None  # waiting for the client to read

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else ""
            if not limits.admit(transport, address, plain=self.scheme == "http"):
                transport.abort()
                return
            self._await_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_waiting()
            self._sending_again()
            limits.release(self.transport)
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._await_body()  # ended at once by on_message_complete when there is none

        def on_body(self, body: bytes) -> None:
            super().on_body(body)
            self._await_body()

        def on_message_complete(self) -> None:
            self._stop_waiting()
            super().on_message_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.cycle.response_complete:  # none pipelined runs now
                self._await_headers()  # the next request's, on a kept-alive connection

        def shutdown(self) -> None:
            if self.cycle is None or self.cycle.response_complete:
                # Idle (kept alive): nothing to finish. A graceful TLS close waits for the
                # client's answer, which an idle client never reads to send, so the stop
                # waited 30 s (asyncio's limit) for each such connection.
                self.transport.abort()
                return
            super().shutdown()

        def handle_websocket_upgrade(self) -> None:
            self._stop_waiting()
            super().handle_websocket_upgrade()  # the WebSocket protocol releases the place

        def pause_writing(self) -> None:
            super().pause_writing()
            if self._stall_timer is None:
                self._stall_timer = self.loop.call_later(limits.stall_seconds, self._stalled)

        def resume_writing(self) -> None:
            self._sending_again()
            super().resume_writing()

        # --- the client must send ... ---------------------------------------------------

        def _await_headers(self) -> None:
            self._await_client(limits.header_seconds, "no complete request headers")

        def _await_body(self) -> None:
            self._await_client(limits.stall_seconds, "no more of a request body")

        def _await_client(self, seconds: int, late: str) -> None:
            self._stop_waiting()
            self._client_timer = self.loop.call_later(seconds, self._client_late, seconds, late)

        def _stop_waiting(self) -> None:
            if self._client_timer is not None:
                self._client_timer.cancel()
                self._client_timer = None

        def _client_late(self, seconds: int, late: str) -> None:
            self._client_timer = None
            if self.transport.is_closing():
                return
            if self.flow.read_paused:  # the application is not reading yet: not the client's fault
                self._await_client(seconds, late)
                return
            address = self.client[0] if self.client else ""
            limits.note(f"{late} in {seconds} s from {address}")
            self.transport.abort()

        # --- ... and read what it asked for -----------------------------------------------

        def _sending_again(self) -> None:
            if self._stall_timer is not None:
                self._stall_timer.cancel()
                self._stall_timer = None

        def _stalled(self) -> None:
            self._stall_timer = None
            address = self.client[0] if self.client else ""
            limits.note(f"nothing read for {limits.stall_seconds} s from {address}")
            self.transport.abort()

    class GuardedWebSockets(WebSocketsSansIOProtocol):
        def connection_lost(self, exc: Exception | None) -> None:
            limits.release(self.transport)
            super().connection_lost(exc)

        def keepalive_timeout(self) -> None:
            super().keepalive_timeout()
            # A peer that answers no ping answers no TLS close either: a graceful close would
            # keep the socket (and the customer shown connected) 30 s more, asyncio's wait.
            self.transport.abort()

    return GuardedHttp, GuardedWebSockets
