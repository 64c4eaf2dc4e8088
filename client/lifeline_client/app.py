"""The program's run: the client socket, the customer's chat (browser page or terminal),
the terminal's questions and commands, and a clean end on /quit, Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import ssl
import sys
import webbrowser

from lifeline_protocol.computer import CAPABILITIES, Capability

from lifeline_client import __version__, sysinfo
from lifeline_client.chat import Chat
from lifeline_client.connection import ClientSocket
from lifeline_client.consent import Consent, parse_capabilities
from lifeline_client.start import Target
from lifeline_client.terminal import Terminal


async def run(target: Target, context: ssl.SSLContext, allowed: set[Capability], *, flag: bool, chat: str) -> str:
    """Run until the session is over or the customer quits; returns the last word. `chat`:
    "browser" (open the chat page; in the terminal when no browser opens), "terminal", or
    "none" (the page is open already: one customer socket per session, the browser's)."""
    loop = asyncio.get_running_loop()
    terminal = Terminal()
    socket = ClientSocket(
        target,
        context,
        Consent(allowed),
        flag=flag,
        make_computer=lambda private_ip: sysinfo.computer(private_ip, __version__),
        say=terminal.say,
        ask=terminal.ask,
        withdraw=terminal.withdraw,
    )
    terminal.on_answer = lambda capability, allowed: socket.decide(capability, allowed, answered_here=True)
    chat_url = f"{target.site.origin}/chat/{target.token}"
    opened = chat == "browser" and await asyncio.to_thread(_open_browser, chat_url)
    talk = None if opened or chat == "none" else Chat(target, context, terminal.say)
    quit = asyncio.Event()

    async def typed(line: str) -> None:
        command, _, rest = line.strip().partition(" ")
        if command == "/revoke":
            try:
                taken = parse_capabilities(rest or "all")
            except ValueError as error:
                terminal.say(str(error))
                return
            for capability in CAPABILITIES:
                if capability in taken and socket.consent.allows(capability):
                    socket.decide(capability, False, answered_here=True)
        elif command == "/quit":
            quit.set()
        elif command == "/end":
            if talk is not None:
                await talk.end()
            else:
                terminal.say("End the session in the browser page, or close this program with /quit.")
        elif line.startswith("/"):
            terminal.say(f"unknown command {command}: type /help")
        elif talk is not None:
            await talk.send_line(line)
        else:
            terminal.say("(the chat is in your browser; type /help for commands)")

    terminal.on_line = typed
    terminal.start(loop)
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, quit.set)

    client_task = loop.create_task(socket.run())
    chat_task = loop.create_task(talk.run()) if talk is not None else None
    quit_task = loop.create_task(quit.wait())
    waiting = {client_task, quit_task} | ({chat_task} if chat_task else set())
    done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    word = "Closed."
    if client_task in done:
        word = client_task.result()  # raises a ClientError (untrusted appliance) as it is
    elif chat_task is not None and chat_task in done:
        word = chat_task.result()
    await socket.stop()
    if talk is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(talk.leave(), 2)
    for task in (client_task, chat_task, quit_task):
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return word


def _open_browser(url: str) -> bool:
    if sys.platform.startswith("linux") and not _has_display():
        return False
    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def _has_display() -> bool:
    import os

    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
