"""An appliance turning backup closes the live sockets it holds (4421, the primary's origin
as reason), as its accept path (realtime.follow) refuses new ones: they all go to the primary."""

from __future__ import annotations

import logging

from lifeline_protocol import CloseCode

from lifeline.failover.state import REREAD_SECONDS
from lifeline.jobs import Job
from lifeline.realtime.computers import Computers
from lifeline.realtime.follow import failover_state
from lifeline.realtime.hub import Hub
from lifeline.realtime.jump import JumpSockets
from lifeline.runtime import Runtime

log = logging.getLogger("lifeline.realtime")


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
        primary = state.primary_url if state.role == "backup" else None
        if primary:
            # Every round while backup, not only at the change: a socket accepted just before
            # the role changed is closed at the next round.
            closed = self.close_all(primary[:120])
            if not self._backup:
                log.warning("this appliance is now the backup: closed %d sockets (4421, to %s)", closed, primary)
        self._backup = bool(primary)

    def close_all(self, primary: str) -> int:
        """Close every live socket here; how many. Each socket's own ending lets go of it as
        after any drop."""
        peers = {*self.hub.consoles, *self.hub.customers.values(), *self.hub.attaching}
        for watching in self.hub.watchers.values():
            peers |= watching
        peers |= {link.peer for link in self.computers.links.values()}
        closing = [peer for peer in peers if peer.close_code != CloseCode.NOT_PRIMARY]  # each once
        for peer in closing:
            peer.close(CloseCode.NOT_PRIMARY, primary)
        links = [link for link in self.jump.links.values() if not link.closing]
        for link in links:
            link.close(CloseCode.NOT_PRIMARY, primary)
        return len(closing) + len(links)
