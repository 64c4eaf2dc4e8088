"""`jump run`: the Jump Client's foreground loop (what its service runs). One socket to
`/ws/jump`, trusting only DIR/appliance.pem: challenge, hello, welcome, then statistics at
the asked interval and the appliance's messages, each handled by HANDLERS (a Jumpoint adds
its own there). After any drop it comes back after a random wait (full jitter, growing to
30 s); removed (4403 or `uninstall`), it uninstalls itself and exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import ssl
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
from lifeline_protocol import VERSION, encode
from lifeline_protocol.close import CloseCode
from lifeline_protocol.common import HELLO_TIMEOUT, Message
from lifeline_protocol.jump import (
    MAX_JUMP_MESSAGE,
    Challenge,
    Hello,
    PushClient,
    ShellJump,
    Started,
    StartSession,
    ToJumpClient,
    Uninstall,
    Welcome,
    signed_text,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from lifeline_client import __version__, sysinfo
from lifeline_client.follow import Appliances, follow_wait
from lifeline_client.jump import setup, state, stats, upgrade
from lifeline_client.jump.sessions import Sessions
from lifeline_client.jumpoint import handlers as jumpoint
from lifeline_client.reconnect import received_close
from lifeline_client.start import Site, parse_site
from lifeline_client.terminal import Terminal
from lifeline_client.tls import trust

log = logging.getLogger(__name__)

OPEN_TIMEOUT = 20.0  # seconds to connect and upgrade
# Seconds: the longest wait between tries. Short enough that a fleet is back soon after an
# outage (the appliance's connect rate, not this, spreads a storm); long enough that a dead
# appliance sees each client only every 15 s on average.
MAX_WAIT = 30.0
SLOW_WAIT = 300.0  # after a refused hello (4400) or a replaced socket (4409): try again, but rarely
MIN_INTERVAL = 5.0  # seconds: statistics never more often than this, whatever the welcome says
FIRST_STATISTICS = 2.0  # seconds after the welcome: the first statistics

_decoder = msgspec.json.Decoder(ToJumpClient)


class Removed(Exception):
    """The appliance removed this installation (4403 or `uninstall`): its reason."""


def full_jitter(attempt: int) -> float:
    """Seconds to wait before try `attempt` (from 0): uniform(0, min(30, 2**attempt)), so
    thousands of clients dropped together come back spread out."""
    return random.uniform(0.0, min(MAX_WAIT, 2.0 ** min(attempt, 16)))


Handler = Callable[["JumpClient", Any], Awaitable[None]]


async def _start_session(client: JumpClient, message: StartSession) -> None:
    try:
        error = client.sessions.start(message)
    except Exception as failure:  # said to the rep in words, never a traceback
        log.warning("could not start the Jump session %s: %s", message.lsid, failure)
        error = f"the Jump Client could not start the session: {failure}"
    if error:
        client.send(Started(request=message.request, error=error[:1000]))
        return

    async def answer() -> None:  # `started` once the session's socket is in, without holding the loop
        said = await client.sessions.connected(message.lsid)
        client.send(Started(request=message.request, error=said[:1000]))

    client.later(answer())


async def _uninstall(client: JumpClient, message: Uninstall) -> None:
    raise Removed(message.reason or "removed on the appliance")


# The appliance's messages after the welcome: type -> handler. A Jumpoint registers
# shell_jump and push_client here.
HANDLERS: dict[type[Message], Handler] = {
    StartSession: _start_session,
    Uninstall: _uninstall,
    ShellJump: jumpoint.on_shell_jump,
    PushClient: jumpoint.on_push_client,
}


class JumpClient:
    def __init__(self, folder: Path, installation: state.Installation, key: Any, *, terminal: Terminal) -> None:
        self.folder = folder
        self.installation = installation
        self.key = key
        # The pair the last welcome named, the primary it named first (an address in jump.json
        # that is not a site is skipped: the origin installed is always known).
        self.appliances = Appliances(parse_site(installation.origin), installation.appliances)
        if installation.appliances:
            self.appliances.prefer(installation.appliances[0])
        self.context: ssl.SSLContext = trust(pin=folder / state.CERT)
        self.sessions = Sessions(self.site, self.context, terminal)
        self.welcome: Welcome | None = None
        self._ws: ClientConnection | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def site(self) -> Site:
        return self.appliances.current

    @property
    def url(self) -> str:
        return f"wss://{self.site.host}:{self.site.port}/ws/jump"

    def _go_to(self, site: Site) -> None:
        self.sessions.site = site  # sessions jumped to from now on open on that appliance

    def _learn(self, welcome: Welcome) -> None:
        """Keep the pair the welcome names in jump.json, so it survives restarts."""
        if not welcome.appliances:
            return
        self.appliances.learn(welcome.appliances)
        if tuple(self.appliances.origins) == self.installation.appliances:
            return
        self.installation = replace(self.installation, appliances=tuple(self.appliances.origins))
        try:
            state.save(self.folder, self.installation)
        except OSError as error:
            log.warning("could not keep the appliances' addresses in %s: %s", self.folder / state.STATE, error)

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` beside the socket (a handler's slow part); kept until done."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def send(self, message: Message) -> None:
        ws = self._ws
        if ws is None:
            return
        asyncio.get_running_loop().create_task(self._send(ws, message))

    async def _send(self, ws: ClientConnection, message: Message) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            await ws.send(encode(message).decode())

    async def run(self) -> str:
        """Connected, or waiting to be, until removed; returns the last word."""
        attempt = 0
        while True:
            slow = False
            welcomed = False
            follow: Site | None = None
            try:
                async with connect(
                    self.url,
                    ssl=self.context,
                    server_hostname=self.site.server_hostname,
                    open_timeout=OPEN_TIMEOUT,
                    max_size=MAX_JUMP_MESSAGE * 4,
                    user_agent_header="lifeline-client",
                ) as ws:
                    if await self._connection(ws):
                        attempt, welcomed = 0, True
                    code, reason = received_close(ws)
                    if code == CloseCode.NOT_PRIMARY:
                        follow = self.appliances.told(reason)
                    elif code == CloseCode.REVOKED:
                        raise Removed(reason or "removed on the appliance")
                    if code == CloseCode.BAD_HELLO:
                        log.warning("the appliance refused this Jump Client's hello: %s", reason or "bad hello")
                        slow = True
                    elif code == CloseCode.REPLACED:
                        # Another process runs this same installation: do not take turns with it.
                        log.warning("another process of this installation connected (4409); trying again later")
                        slow = True
                    elif code == CloseCode.TRY_AGAIN_LATER:
                        log.info("the appliance is busy (1013): trying again later")
            except Removed as removed:
                return self._removed(str(removed))
            except ssl.SSLCertVerificationError as error:
                log.warning(
                    "%s is not trusted: %s (only %s is)",
                    self.site.origin,
                    error.verify_message,
                    self.folder / state.CERT,
                )
            except InvalidStatus as error:
                log.warning("the appliance refused the Jump socket (%d)", error.response.status_code)
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed) as error:
                log.info("connection to the appliance lost: %s", error or type(error).__name__)
            self._ws = None
            told = follow is not None
            if not told and not welcomed and not slow:
                follow = self.appliances.next()  # no answer here: the other appliance (if any) next
            if follow is not None:
                self._go_to(follow)
            if slow:
                wait = SLOW_WAIT * random.uniform(0.5, 1.0)
            elif told and attempt < 3:
                wait = follow_wait()  # a backup named the primary: go now (its refusals count)
            else:
                wait = full_jitter(attempt)
            attempt += 1
            log.info("connecting again in %.1f s", wait)
            await asyncio.sleep(wait)

    async def _connection(self, ws: ClientConnection) -> bool:
        """One connection: challenge, hello, welcome, then messages until it drops."""
        try:
            challenge = _decoder.decode(await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT))
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            log.warning("the appliance's first message is not a challenge: %s", error)
            return False
        except (TimeoutError, ConnectionClosed):
            return False
        if not isinstance(challenge, Challenge):
            log.warning("the appliance's first message is not a challenge")
            return False
        local = ws.local_address[0] if ws.local_address else ""
        hello = Hello(
            id=self.installation.id,
            signature=state.sign(self.key, signed_text(challenge.nonce, self.installation.id, self.site.origin)),
            computer=sysinfo.computer(str(local), __version__),
            mode="jumpoint" if self.installation.mode == "jumpoint" else "jump_client",
            version=VERSION,
        )
        await ws.send(encode(hello).decode())
        try:
            first = _decoder.decode(await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT))
        except (TimeoutError, ConnectionClosed, msgspec.ValidationError, msgspec.DecodeError):
            return False
        if isinstance(first, Uninstall):
            raise Removed(first.reason or "removed on the appliance")
        if not isinstance(first, Welcome):
            log.warning("the appliance did not welcome this Jump Client")
            return False
        self._ws = ws
        self.welcome = first
        self._learn(first)
        log.info("connected to %s as %s", self.site.origin, first.name)
        if first.upgrade is not None:
            await upgrade.maybe_upgrade(self.site, self.context, first.upgrade)
        await self._listen(ws, first)
        return True

    async def _listen(self, ws: ClientConnection, welcome: Welcome) -> None:
        """Messages and, between them, the statistics when their time comes: one task."""
        wanted = list(welcome.statistics)
        interval = max(MIN_INTERVAL, welcome.interval) if wanted else None
        if "cpu" in wanted:
            stats.prime_cpu()
        # The first soon after connecting (the Jump list shows the computer at once), CPU
        # measured over those seconds; then every interval.
        due = time.monotonic() + min(interval or 0, FIRST_STATISTICS)
        while True:
            timeout = None if interval is None else max(0.0, due - time.monotonic())
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout)
            except TimeoutError:
                assert interval is not None
                due = time.monotonic() + interval
                try:
                    gathered = await asyncio.to_thread(stats.gather, wanted)
                except Exception as error:  # a statistic that cannot be read this time: none sent
                    log.warning("could not gather the statistics: %s", error)
                    continue
                await ws.send(encode(gathered).decode())
                continue
            except ConnectionClosed:
                return
            try:
                message = _decoder.decode(raw)
            except (msgspec.ValidationError, msgspec.DecodeError) as error:
                log.warning("a message from the appliance was not understood: %s", str(error)[:200])
                continue
            handler = HANDLERS.get(type(message))
            if handler is None:
                log.warning("the appliance sent %s, which this Jump Client does not handle", type(message).__name__)
                continue
            try:
                await handler(self, message)
            except Removed:
                raise
            except Exception as error:  # one message's failure never ends the Jump Client
                log.warning("handling %s failed: %s", type(message).__name__, error)

    def _removed(self, reason: str) -> str:
        said = setup.remove_local(self.folder, itself=True)
        return f"This Jump Client was removed on {self.site.origin} ({reason}): uninstalled itself. {said}"


async def run(folder: Path) -> str:
    installation, key = state.load(folder)
    client = JumpClient(folder, installation, key, terminal=Terminal())
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    if client.sessions.terminal.interactive:
        client.sessions.terminal.start(loop)
    main = loop.create_task(client.run())
    stopped = loop.create_task(stop.wait())
    await asyncio.wait({main, stopped}, return_when=asyncio.FIRST_COMPLETED)
    await client.sessions.stop()
    await jumpoint.stop()
    if main.done():
        stopped.cancel()
        return main.result()
    main.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await main
    if client._ws is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client._ws.close(), 2)
    return "Stopped."
