"""A representative's Jump: the session's own client socket (connection.py's ClientSocket,
exactly what `lifeline-client attach` runs) in this process, with what the Jump Group
allows already allowed. Anything else is asked on the terminal when there is one, else
refused: nobody at this computer can allow it."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from lifeline_protocol.computer import Capability
from lifeline_protocol.jump import StartSession

from lifeline_client import __version__, sysinfo
from lifeline_client.connection import ClientSocket
from lifeline_client.consent import ASKS_TO, Consent
from lifeline_client.start import Site, Target
from lifeline_client.terminal import Terminal

log = logging.getLogger(__name__)

MAX_SESSIONS = 16  # Jumps served at once; more are refused in words
CONNECT_SECONDS = 10.0  # for a Jump's session socket to be welcomed before `started` says it failed
NOBODY = "nobody at this computer can allow it"


class Sessions:
    """The Jump sessions running in this process, by lsid."""

    def __init__(self, site: Site, context: ssl.SSLContext, terminal: Terminal) -> None:
        self.site = site
        self.context = context
        self.terminal = terminal
        self.running: dict[str, tuple[ClientSocket, asyncio.Task[Any]]] = {}
        self.last_words: dict[str, str] = {}  # why a session's socket stopped, until read
        terminal.on_answer = self._answered

    def start(self, message: StartSession) -> str:
        """Open the session's socket; "" when started, else why not (in words)."""
        if message.lsid in self.running:
            return ""  # the same Jump again (a retried request): it is running already
        if len(self.running) >= MAX_SESSIONS:
            return f"this computer already serves {MAX_SESSIONS} sessions"
        allowed: set[Capability] = set(message.allowed)
        socket = self.client_socket(Target(self.site, message.token), Consent(allowed), flag=bool(allowed))
        task = asyncio.get_running_loop().create_task(self._serve(message, socket))
        self.running[message.lsid] = (socket, task)
        log.warning(
            "%s jumped to this computer (session %s); allowed by its Jump Group: %s",
            message.rep or "a representative",
            message.lsid,
            ", ".join(sorted(allowed)) or "nothing",
        )
        return ""

    def client_socket(self, target: Target, consent: Consent, *, flag: bool) -> ClientSocket:
        """`flag`: the group's rule allowed these in advance, as `--allow` does (the appliance
        logs them as allowed without asking, not as an answer of the computer's user)."""
        socket: ClientSocket

        def ask(capability: Capability, rep: str) -> None:
            if self.terminal.interactive:
                self.terminal.ask(capability, rep)
                return
            log.warning("%s asks to %s: refused, %s", rep, ASKS_TO[capability], NOBODY)
            asyncio.get_running_loop().call_soon(lambda: socket.decide(capability, False, answered_here=True))

        socket = ClientSocket(
            target,
            self.context,
            consent,
            flag=flag,
            make_computer=lambda private_ip: sysinfo.computer(private_ip, __version__),
            say=lambda text: log.info("session: %s", text),
            ask=ask,
            withdraw=self.terminal.withdraw,
        )
        return socket

    def _answered(self, capability: Capability, allowed: bool) -> None:
        for socket, _ in self.running.values():
            if capability in socket.consent.asked:
                socket.decide(capability, allowed, answered_here=True)
                return

    async def connected(self, lsid: str) -> str:
        """Once the Jump's session socket is welcomed: "", else why not, in words (and the
        socket is stopped: the appliance ends the session)."""
        running = self.running.get(lsid)
        if running is None:
            return "the session could not be started"
        socket, task = running
        welcomed = asyncio.ensure_future(socket.connected.wait())
        try:
            await asyncio.wait({welcomed, task}, timeout=CONNECT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            welcomed.cancel()
        if socket.connected.is_set():
            return ""
        if task.done():
            return f"the session's connection ended at once: {self.last_words.pop(lsid, 'no reason given')}"
        await socket.stop()
        task.cancel()
        return f"could not connect to the session within {CONNECT_SECONDS:.0f} seconds"

    async def _serve(self, message: StartSession, socket: ClientSocket) -> None:
        try:
            word = await socket.run()
            log.warning("session %s: %s", message.lsid, word)
        except Exception as error:  # one session's failure never ends the Jump Client
            word = str(error)
            log.warning("session %s ended: %s", message.lsid, error)
        else:
            self.last_words[message.lsid] = word
        finally:
            await socket.stop()
            self.running.pop(message.lsid, None)

    async def stop(self) -> None:
        for socket, task in list(self.running.values()):
            await socket.stop()
            task.cancel()
        self.running.clear()
