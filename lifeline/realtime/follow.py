"""Live sockets follow the failover primary (issue 17): a backup appliance refuses every
`/ws/*` socket with 4421 and the primary's origin as the reason; the primary names both
appliances in each welcome, so clients know where to go next. Read from the failover
file through one StateCache per data directory: no database read on the accept path."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lifeline_protocol import CloseCode
from lifeline_protocol.common import MAX_APPLIANCES
from starlette.websockets import WebSocket

from lifeline.failover.state import REREAD_SECONDS, FailoverState, StateCache
from lifeline.jobs import Job
from lifeline.runtime import Runtime

if TYPE_CHECKING:  # they import this module for their welcomes
    from lifeline.realtime.computers import Computers
    from lifeline.realtime.hub import Hub
    from lifeline.realtime.jump import JumpSockets

log = logging.getLogger("lifeline.realtime")

_caches: dict[Path, StateCache] = {}

Serve = Callable[[WebSocket], Awaitable[None]]


def failover_state(runtime: Runtime) -> FailoverState:
    data_dir = runtime.config.data_dir
    cache = _caches.get(data_dir)
    if cache is None:
        cache = _caches[data_dir] = StateCache(data_dir)
    return cache.get()


def appliances(runtime: Runtime) -> list[str]:
    """What a welcome names: both origins, the primary first; none without a failover peer."""
    state = failover_state(runtime)
    if not state.configured:
        return []
    return state.addresses[:MAX_APPLIANCES]


def primary_only(runtime: Runtime, serve: Serve) -> Serve:
    """`serve`, unless this appliance is the backup: then the socket is refused (4421)."""

    async def guarded(websocket: WebSocket) -> None:
        state = failover_state(runtime)
        if state.role == "backup" and state.primary_url:
            await websocket.accept()
            # The reason is the primary's origin alone, so a client needs no parsing of words.
            await websocket.close(CloseCode.NOT_PRIMARY, state.primary_url[:120])
            return
        await serve(websocket)

    return guarded


class Demotion:
    """When this appliance turns backup, every socket open here closes with 4421 (the
    primary's origin as reason), as a new one would be refused: they all go to the primary."""

    def __init__(self, runtime: Runtime, hub: Hub, computers: Computers, jump: JumpSockets) -> None:
        self.runtime = runtime
        self.hub = hub
        self.computers = computers
        self.jump = jump
        self._backup = failover_state(runtime).role == "backup"

    def job(self) -> Job:
        return Job("sockets follow the primary", self.check, REREAD_SECONDS)

    async def check(self) -> None:
        state = failover_state(self.runtime)
        backup = state.role == "backup" and bool(state.primary_url)
        if backup and not self._backup and state.primary_url:
            self.close_all(state.primary_url[:120])
        self._backup = backup

    def close_all(self, primary: str) -> None:
        # Each socket's own ending lets go of it as after any drop.
        peers = {*self.hub.consoles, *self.hub.customers.values(), *self.hub.attaching}
        for watching in self.hub.watchers.values():
            peers |= watching
        peers |= {link.peer for link in self.computers.links.values()}
        for peer in peers:
            peer.close(CloseCode.NOT_PRIMARY, primary)
        for link in list(self.jump.links.values()):
            link.close(CloseCode.NOT_PRIMARY, primary)
        log.warning("this appliance is now the backup: closed %d sockets (4421, to %s)", len(peers), primary)
