"""How a socket ends: the close codes a client acts on (docs/realtime.md, "Close codes")."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    # WebSocket's own: the client reconnects and resumes.
    NORMAL = 1000
    GOING_AWAY = 1001
    ABNORMAL = 1006  # the network dropped it (never sent, only seen)
    TOO_BIG = 1009  # a frame over the transport's limit
    RESTART = 1012  # the appliance restarted, or a restored backup replaced its data
    TRY_AGAIN_LATER = 1013  # too many Jump Clients connecting at once: wait (with jitter) and retry
    # Lifeline's (4000-4999).
    BAD_HELLO = 4400  # no valid hello: fix the client
    UNAUTHORIZED = 4401  # not signed in, or the sign-in ended: go to the sign-in page
    REVOKED = 4403  # a Jump Client removed by an admin, or unknown: uninstall, do not reconnect
    TOO_SLOW = 4408  # its outbox overflowed: reconnect and resume
    REPLACED = 4409  # another socket took over the connection: do not reconnect from here
    GONE = 4410  # the connection or session is over: stop
    # This appliance is a failover backup: the reason is the primary's origin
    # (https://host[:port]); go there, same path, same credentials.
    NOT_PRIMARY = 4421
