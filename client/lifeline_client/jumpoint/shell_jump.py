"""A Shell Jump (`shell_jump`): the Jumpoint joins the session as its client, as a Jump
Client does for `start_session`, but its command shells are SSH sessions to the host the
representative named, and it offers nothing else: system information, files and the screen
are not available through a Shell Jump. The credentials live in this coroutine's memory
for the session's life only."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
from collections.abc import Callable
from pathlib import Path

from lifeline_protocol.computer import Capability, Computer
from lifeline_protocol.jump import ShellJump, Started

from lifeline_client import __version__
from lifeline_client.connection import ClientSocket
from lifeline_client.consent import Consent
from lifeline_client.jumpoint.ssh import Link, Login, SshError
from lifeline_client.start import Site, Target

log = logging.getLogger(__name__)

ANSWER_WITHIN = 14.0  # seconds: the appliance waits 15 for the answer (SSH login included)
MIN_WELCOME_WAIT = 2.0  # seconds for the session socket to be welcomed, at least
UNAME_TIMEOUT = 5.0
PLATFORMS = {"Linux": "linux", "Darwin": "mac"}


class ShellJumpConsent(Consent):
    """Only the shell, allowed from the start; the rest cannot be had here at all."""

    def __init__(self) -> None:
        super().__init__({"shell"})

    def refusal(self, capability: Capability) -> str:
        return f"{capability.replace('_', ' ').capitalize()} is not available through a Shell Jump"


def login_of(message: ShellJump) -> Login:
    return Login(
        host=message.host,
        port=message.port,
        username=message.username,
        password=message.password,
        private_key=message.private_key,
    )


async def describe(link: Link) -> Computer:
    """The host as the session shows it: its name as given, its system as `uname` says."""
    login = link.login
    system = ""
    with contextlib.suppress(Exception):  # an answer is nice to have, not needed
        connection = await link.connect()
        result = await asyncio.wait_for(connection.run("uname -sr", check=False), UNAME_TIMEOUT)
        if isinstance(result.stdout, str):
            system = result.stdout.strip()[:200]
    private_ip = ""
    with contextlib.suppress(ValueError):
        private_ip = str(ipaddress.ip_address(login.host.strip("[]")))
    return Computer(
        hostname=login.host,
        os=system,
        platform=PLATFORMS.get(system.split(" ")[0], "other"),  # type: ignore[arg-type]
        username=login.username,
        private_ip=private_ip,
        client_version=__version__,
    )


async def shell_jump(
    message: ShellJump, site: Site, context: ssl.SSLContext, folder: Path, answer: Callable[[Started], None]
) -> str:
    """Serve the Shell Jump until the session ends; `answer` gets the `started` (with the
    error in words when SSH or the session cannot be reached). Returns the last word."""
    link = Link(login_of(message), folder)
    begun = asyncio.get_running_loop().time()
    try:
        await link.connect()  # a wrong password or host is the representative's to hear now
    except SshError as error:
        log.info("Shell Jump to %s for session %s failed: %s", link.login.where, message.lsid, error)
        answer(Started(request=message.request, error=str(error)[:1024]))
        return str(error)
    computer = await describe(link)
    socket: ClientSocket | None = None

    def refuse(capability: Capability, rep: str) -> None:
        if socket is not None:
            socket.decide(capability, False, answered_here=True)

    socket = ClientSocket(
        Target(site, message.token),
        context,
        ShellJumpConsent(),
        flag=True,
        make_computer=lambda _local: computer,
        say=lambda text: log.info("Shell Jump %s: %s", message.lsid, text),
        ask=refuse,
        withdraw=lambda capability: None,
        make_shell=link.make_shell,
    )
    running = asyncio.get_running_loop().create_task(socket.run())
    welcomed = asyncio.get_running_loop().create_task(socket.connected.wait())
    try:
        wait = max(MIN_WELCOME_WAIT, ANSWER_WITHIN - (asyncio.get_running_loop().time() - begun))
        await asyncio.wait({running, welcomed}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        if not socket.connected.is_set():
            why = "the Jumpoint could not join the session"
            if running.done() and not running.cancelled():
                why = f"{why}: {running.exception() or running.result()}"
            answer(Started(request=message.request, error=why[:1024]))
            return why
        answer(Started(request=message.request))
        log.info("Shell Jump to %s for session %s started", link.login.where, message.lsid)
        return await running
    finally:
        welcomed.cancel()
        if not running.done():
            await socket.stop()
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await running
        else:
            await socket.stop()
        link.close()
