"""Waiting before the next try: jittered, from 0.5 s doubling to 10 s (the contract); and
why the appliance closed the last connection."""

from __future__ import annotations

import random

from websockets.asyncio.client import ClientConnection

FIRST = 0.5
LAST = 10.0


class Backoff:
    def __init__(self) -> None:
        self._delay = FIRST

    def next(self) -> float:
        """The wait before this try: between half and all of the current delay."""
        wait = self._delay * random.uniform(0.5, 1.0)
        self._delay = min(self._delay * 2, LAST)
        return wait

    def reset(self) -> None:
        self._delay = FIRST


def received_close(ws: ClientConnection) -> tuple[int | None, str]:
    """The close code and reason the appliance sent, from the moment its close frame came.
    `ws.close_code` stays None until the closing handshake is over, so a close that arrived
    while the client was still sending (a backup's 4421 racing the hello) was taken for a
    dropped connection, and the client retried the backup forever."""
    close = ws.protocol.close_rcvd
    return (close.code, close.reason) if close is not None else (None, "")
