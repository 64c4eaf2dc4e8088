"""The Jump Client's socket (`/ws/jump`): tens of thousands per process, so each is light.

A socket is its connection's own task and a `JumpLink` of a few slots: no writer task (the
appliance rarely speaks: a welcome, a Jump, an uninstall; `JumpLink.send` drains in a task
only while something waits), no outbox queue. Statistics and "last seen" go into one dict of
this process and one job writes them every few seconds in one transaction. New sockets pass
a token bucket (`jump_connect_rate` a second) before any database work: after an outage
the clients come back no faster than the appliance takes them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from lifeline_protocol import VERSION, CloseCode, ProtocolError, encode
from lifeline_protocol import jump as wire
from lifeline_protocol.common import HELLO_TIMEOUT
from lifeline_protocol.decode import decode_from_jump_client, decode_jump_hello
from starlette.websockets import WebSocket, WebSocketDisconnect

from lifeline.appliance.client_downloads import PLATFORMS, ClientDownloads
from lifeline.bus.wire import live_event
from lifeline.db.base import utcnow
from lifeline.jobs import Job, Reach
from lifeline.jump import actions as jump
from lifeline.jump import keys
from lifeline.jump.live import JumpAnswered, JumpCommand, JumpRevoked
from lifeline.realtime.follow import appliances
from lifeline.runtime import Runtime

log = logging.getLogger("lifeline.realtime")

FLUSH_SECONDS = 5.0  # statistics and "last seen" are written this often, in one transaction
PURGE_SECONDS = 3600.0
CHECK_SECONDS = 5.0  # removals no live event told this process of are found this often
# A Jump Client sends statistics every few seconds at most and answers the odd command: far
# more is a client gone wrong, closed rather than read.
MESSAGES_PER_MINUTE = 120
REVOKED = "This Jump Client was removed from the appliance."
UNKNOWN = "This Jump Client is not known to the appliance."
BUSY = "too many Jump Clients connecting; try again later"


@live_event
@dataclass(frozen=True)
class JumpSocketReplaced:
    """A newer socket of this Jump Client (`link` names it): any other one closes (4409)."""

    jump_client: int
    link: str


class TokenBucket:
    """At most `rate` a second on average, `rate` at once at most."""

    __slots__ = ("level", "rate", "stamp")

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.level = rate
        self.stamp = time.monotonic()

    def take(self, rate: float, per: float = 1.0) -> bool:
        now = time.monotonic()
        self.rate = rate
        self.level = min(rate, self.level + (now - self.stamp) * rate / per)
        self.stamp = now
        if self.level < 1:
            return False
        self.level -= 1
        return True


class JumpLink:
    """One Jump Client's socket held here."""

    __slots__ = ("closing", "id", "link", "pending", "replaced", "sending", "websocket")

    def __init__(self, jump_client_id: int, websocket: WebSocket) -> None:
        self.id = jump_client_id
        self.link = secrets.token_hex(8)
        self.websocket = websocket
        self.replaced = False
        self.closing = False
        # What waits to be sent while `sending` sends it: text, or (code, reason) to close.
        self.pending: list[str | tuple[int, str]] | None = None
        self.sending: asyncio.Task[None] | None = None

    def send(self, text: str) -> None:
        self._queue(text)

    def close(self, code: int, reason: str = "") -> None:
        self._queue((code, reason))

    def _queue(self, item: str | tuple[int, str]) -> None:
        if self.closing:
            return
        self.closing = isinstance(item, tuple)
        if self.pending is None:
            self.pending = []
        self.pending.append(item)
        if self.sending is None:
            self.sending = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            # A socket already gone fails here: its reader sees the end and lets go of it.
            with contextlib.suppress(Exception):
                while self.pending:
                    item = self.pending.pop(0)
                    if isinstance(item, tuple):
                        await self.websocket.close(item[0], item[1] or None)
                    else:
                        await self.websocket.send_text(item)
        finally:
            self.pending = None
            self.sending = None


def _version(text: str) -> tuple[int, ...]:
    """A client version's numbers, to compare ("1.2.10" > "1.2.9"); what is not a number counts 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in re.split(r"[.+-]", text) if part)


class JumpSockets:
    """This process's Jump Client sockets."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.links: dict[int, JumpLink] = {}
        self.statistics: dict[int, wire.Statistics] = {}  # since the last flush
        self.seen: set[int] = set()  # heard from since the last flush
        self.connects = TokenBucket(200)
        self.upgrades = TokenBucket(5)
        self.downloads = ClientDownloads(runtime.config.client_dir, runtime.config.tls_dir)
        self._unsubscribe = runtime.bus.subscribe(self.on_event)
        self._jobs = [
            Job("Jump statistics", self.flush, FLUSH_SECONDS),
            Job("Jump sockets checked", self.check, CHECK_SECONDS),
            Job("Jump Clients offline too long", self.purge, PURGE_SECONDS, Reach.SHARED, at_start=True),
        ]

    def jobs(self) -> list[Job]:
        return self._jobs

    def stop(self) -> None:
        """The appliance stops: no more events (the jobs stop with the hub's)."""
        self._unsubscribe()

    def close_all(self, code: int) -> None:
        for link in list(self.links.values()):
            link.close(code)

    # --- jobs ------------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write what the sockets said since the last round."""
        if self.statistics or self.seen:
            statistics, seen = self.statistics, self.seen
            self.statistics, self.seen = {}, set()
            await self.runtime.db.write(jump.record_statistics_batch, statistics, utcnow(), seen)

    async def check(self) -> None:
        """Close the sockets of Jump Clients removed, or taken over by another process, where no
        live event told this one (the `lifeline` command, a deleted group, a lost event)."""
        if not self.links:
            return
        holding = list(self.links)
        removed, elsewhere = await self.runtime.db.write(jump.held_by_node, self.runtime.node_id, holding)
        for jump_client_id in removed:
            self.on_event(JumpRevoked(jump_client_id))
        for jump_client_id in elsewhere:
            self.on_event(JumpSocketReplaced(jump_client_id, ""))

    async def purge(self) -> None:
        days = int((await self.runtime.settings())["jump_offline_days"])
        if days:
            removed = await self.runtime.db.write(jump.purge_offline, days)
            if removed:
                log.info("removed %d Jump Clients not seen for %d days", removed, days)

    # --- the bus ---------------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        if isinstance(event, JumpCommand):
            link = self.links.get(event.jump_client)
            if link is not None:
                link.send(event.message)
        elif isinstance(event, JumpRevoked):
            link = self.links.get(event.jump_client)
            if link is not None:
                link.send(encode(wire.Uninstall(reason=REVOKED)).decode())
                link.close(CloseCode.REVOKED, "removed")
        elif isinstance(event, JumpSocketReplaced):
            link = self.links.get(event.jump_client)
            if link is not None and link.link != event.link:
                link.replaced = True
                del self.links[event.jump_client]
                link.close(CloseCode.REPLACED, "another socket of this Jump Client took over")

    # --- one socket ------------------------------------------------------------------------

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        settings = await self.runtime.settings()
        if not self.connects.take(float(settings["jump_connect_rate"])):
            await websocket.close(CloseCode.TRY_AGAIN_LATER, BUSY)
            return
        origin = "https://" + websocket.headers.get("host", "")
        nonce = secrets.token_urlsafe(24)
        try:
            await websocket.send_text(encode(wire.Challenge(nonce=nonce, version=VERSION)).decode())
            text = await asyncio.wait_for(_next_text(websocket), HELLO_TIMEOUT)
            hello = decode_jump_hello(text)
        except (WebSocketDisconnect, RuntimeError):
            return
        except TimeoutError:
            await _close(websocket, CloseCode.BAD_HELLO, "no hello within 15 seconds")
            return
        except ProtocolError as error:
            await _close(websocket, CloseCode.BAD_HELLO, f"not a valid hello: {error}"[:120])
            return
        found = await self.runtime.db.read(jump.jump_client_key, hello.id)
        if found is None or found[1]:
            await _refuse(websocket, UNKNOWN if found is None else REVOKED)
            return
        if not keys.verify(found[0], hello.signature, wire.signed_text(nonce, hello.id, origin)):
            await _close(websocket, CloseCode.BAD_HELLO, "the signature does not match this Jump Client's key")
            return
        address = websocket.client.host if websocket.client else ""
        joined = await self.runtime.db.write(jump.connected, hello.id, self.runtime.node_id, hello.computer, address)
        if joined is None:  # removed in between
            await _refuse(websocket, REVOKED)
            return
        link = JumpLink(hello.id, websocket)
        older = self.links.get(hello.id)
        if older is not None:
            older.replaced = True
            older.close(CloseCode.REPLACED, "another socket of this Jump Client took over")
        self.links[hello.id] = link
        self.runtime.bus.publish_local(JumpSocketReplaced(hello.id, link.link))
        settings = await self.runtime.settings()
        statistics = [s for s in str(settings["jump_statistics"]).split(",") if s in wire.STATISTICS]
        link.send(
            encode(
                wire.Welcome(
                    name=joined.name,
                    statistics=statistics,  # checked against STATISTICS
                    interval=float(settings["jump_statistics_interval"]),
                    upgrade=self._upgrade(joined, int(settings["jump_upgrade_rate"])),
                    appliances=appliances(self.runtime),
                    version=VERSION,
                )
            ).decode()
        )
        try:
            await self._read(link, websocket, float(settings["jump_statistics_interval"]))
        finally:
            await self._let_go(link)

    async def _read(self, link: JumpLink, websocket: WebSocket, interval: float) -> None:
        last_statistics = 0.0
        window, count = time.monotonic(), 0
        while True:
            try:
                message = decode_from_jump_client(await _next_text(websocket))
            except (WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
                return
            except ProtocolError as error:
                link.close(CloseCode.BAD_HELLO, f"not a valid message: {error}"[:120])
                return
            if link.replaced:
                return
            count += 1
            if count > MESSAGES_PER_MINUTE:
                if time.monotonic() - window < 60:
                    link.close(CloseCode.BAD_HELLO, "too many messages; send statistics at the interval asked")
                    return
                window, count = time.monotonic(), 1
            if isinstance(message, wire.Statistics):
                # Sooner than half the interval is a client gone wrong: kept for later, not stored.
                now = time.monotonic()
                if now - last_statistics >= interval / 2:
                    last_statistics = now
                    self.statistics[link.id] = message
                self.seen.add(link.id)
            elif isinstance(message, wire.Started):
                self.runtime.bus.publish_local(JumpAnswered(message.request, message.error))
                self.seen.add(link.id)
            else:  # a second hello
                link.close(CloseCode.BAD_HELLO, "hello was already said")
                return

    async def _let_go(self, link: JumpLink) -> None:
        if link.replaced or self.links.get(link.id) is not link:
            return
        del self.links[link.id]
        self.statistics.pop(link.id, None)
        self.seen.discard(link.id)
        with contextlib.suppress(Exception):
            await self.runtime.db.write(jump.disconnected, link.id, self.runtime.node_id)

    def _upgrade(self, joined: jump.Connected, rate: int) -> wire.Upgrade | None:
        """The client this appliance serves for the computer's platform, when it is newer than
        the one connecting and this minute's upgrades are not used up."""
        if rate <= 0 or not joined.client_version:
            return None
        build = self.downloads.build()
        if build is None or _version(build.version) <= _version(joined.client_version):
            return None
        prefix = {"linux": "linux-", "mac": "macos-", "windows": "windows-"}.get(joined.platform)
        if prefix is None:
            return None
        # The computer says its system, not its processor: the first build of that system
        # (x86_64 before aarch64 for Linux, as PLATFORMS orders them).
        platform = next((p for p in PLATFORMS if p.startswith(prefix) and p in build.zipapps), None)
        artifact = build.zipapps[platform] if platform else None
        if artifact is None or not self.upgrades.take(float(rate), per=60.0):
            return None
        return wire.Upgrade(
            version=build.version, url=f"/download/client/{artifact.name}", sha256=artifact.sha256, size=artifact.size
        )


async def _next_text(websocket: WebSocket) -> str:
    frame = await websocket.receive()
    if frame["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(frame.get("code", 1000), frame.get("reason"))
    text = frame.get("text")
    if not isinstance(text, str):
        raise ProtocolError("send text frames of JSON messages")
    return text


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code, reason)


async def _refuse(websocket: WebSocket, reason: str) -> None:
    """Unknown or removed: it uninstalls itself and does not come back."""
    with contextlib.suppress(Exception):
        await websocket.send_text(encode(wire.Uninstall(reason=reason)).decode())
    await _close(websocket, CloseCode.REVOKED, "removed")
