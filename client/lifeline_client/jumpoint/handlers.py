"""`jump run`'s handlers for what only a Jumpoint is sent: `shell_jump` and `push_client`.
Each runs as its own task, so the Jump socket goes on reading (a Shell Jump lasts as long
as its session); the `started` answer goes back on that socket when known. A Jump Client
that is not a Jumpoint refuses both in words."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from lifeline_protocol.jump import PushClient, ShellJump, Started

from lifeline_client.jumpoint.push import push_client
from lifeline_client.jumpoint.shell_jump import shell_jump

if TYPE_CHECKING:
    from lifeline_client.jump.run import JumpClient

log = logging.getLogger(__name__)

MAX_AT_ONCE = 32  # Shell Jumps and pushes one Jumpoint serves at once
NOT_A_JUMPOINT = "this is a Jump Client, not a Jumpoint: it reaches no other host"
_working: dict[str, asyncio.Task[Any]] = {}  # by session


def _refused(client: JumpClient, lsid: str) -> str:
    if client.installation.mode != "jumpoint":
        return NOT_A_JUMPOINT
    if lsid in _working:
        return "this Jumpoint is already serving that session"
    if len(_working) >= MAX_AT_ONCE:
        return f"this Jumpoint already serves {MAX_AT_ONCE} Shell Jumps and pushes; try again shortly"
    return ""


def _work(lsid: str, job: Coroutine[Any, Any, Any]) -> None:
    async def guarded() -> None:
        try:
            await job
        except Exception:  # one session's failure never ends the Jumpoint
            log.exception("session %s through this Jumpoint failed", lsid)
        finally:
            _working.pop(lsid, None)

    _working[lsid] = asyncio.get_running_loop().create_task(guarded())


async def on_shell_jump(client: JumpClient, message: ShellJump) -> None:
    refused = _refused(client, message.lsid)
    if refused:
        client.send(Started(request=message.request, error=refused))
        return
    log.warning("%s opens a Shell Jump to %s:%d (session %s)", message.rep, message.host, message.port, message.lsid)
    _work(message.lsid, shell_jump(message, client.site, client.context, client.folder, client.send))


async def on_push_client(client: JumpClient, message: PushClient) -> None:
    refused = _refused(client, message.lsid)
    if refused:
        client.send(Started(request=message.request, error=refused))
        return
    log.warning("%s pushes the client to %s:%d (session %s)", message.rep, message.host, message.port, message.lsid)

    async def push() -> None:
        error = await push_client(message, client.site, client.context, client.folder)
        client.send(Started(request=message.request, error=error))

    _work(message.lsid, push())


async def stop() -> None:
    """The Jumpoint stops: its Shell Jumps end with it."""
    for task in list(_working.values()):
        task.cancel()
    _working.clear()
