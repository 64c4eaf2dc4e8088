"""Live events of Jump Clients that cross appliance processes: a Jump Client's socket is
held by one process, the console that jumps may be on another."""

from __future__ import annotations

from dataclasses import dataclass, field

from lifeline.bus.wire import live_event


@live_event
@dataclass(frozen=True)
class JumpCommand:
    """For the process holding `jump_client`'s socket: send it `message` (an encoded
    `lifeline_protocol.jump` message: start_session, shell_jump or push_client). Its repr
    leaves the message out: a Shell Jump's carries a password, and a failing bus subscriber
    logs the event it failed on."""

    jump_client: int
    message: str = field(repr=False)


@live_event
@dataclass(frozen=True)
class JumpAnswered:
    """A Jump Client answered a command (`started`): for the console process waiting on `request`."""

    request: str
    error: str


@live_event
@dataclass(frozen=True)
class JumpRevoked:
    """Removed: the process holding its socket sends `uninstall` and closes it with 4403."""

    jump_client: int
