"""Live sockets follow the failover primary (issue 17): a backup appliance refuses every
`/ws/*` socket with 4421 and the primary's origin as the reason; the primary names both
appliances in each welcome, so clients know where to go next. Read through the runtime's
failover service (its StateCache of the failover file): no database read on the accept path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from lifeline_protocol import CloseCode
from lifeline_protocol.common import MAX_APPLIANCES
from starlette.websockets import WebSocket

from lifeline.failover.state import FailoverState
from lifeline.runtime import Runtime

Serve = Callable[[WebSocket], Awaitable[None]]


def failover_state(runtime: Runtime) -> FailoverState:
    return runtime.failover.state()


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
