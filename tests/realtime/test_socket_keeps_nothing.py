"""A socket waiting for its next message keeps nothing of the last one alive: an idle
Lifeline client's last message is its system information, megabytes once decoded, and
the appliance holds hundreds of idle clients."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

from lifeline.realtime.hub import Peer
from lifeline.realtime.socket import run_peer


class Decoded:
    """What a decoder made of a message (a plain object: it can be watched by weakref)."""

    def __init__(self, text: str) -> None:
        self.text = text


class QuietSocket:
    """The ASGI side of a socket: one message, then silence until closed (Starlette's
    WebSocket interface as run_peer uses it)."""

    def __init__(self, text: str) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.incoming.put_nowait({"type": "websocket.receive", "text": text})
        self.application_state = None

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_text(self, text: str) -> None:
        pass

    async def send_bytes(self, data: bytes) -> None:
        pass

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        pass

    def disconnect(self) -> None:
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})


def test_an_idle_socket_keeps_no_message_alive() -> None:
    async def scenario() -> None:
        socket = QuietSocket("x" * 100_000)
        seen: list[weakref.ref[Decoded]] = []
        handled = asyncio.Event()

        def decode(text: str) -> Decoded:
            decoded = Decoded(text)
            seen.append(weakref.ref(decoded))
            return decoded

        async def handle(message: Decoded) -> None:
            handled.set()

        serving = asyncio.create_task(run_peer(socket, Peer(1), decode, handle))  # type: ignore[arg-type]
        await asyncio.wait_for(handled.wait(), 5)
        await asyncio.sleep(0.05)  # run_peer is waiting for the next message now
        gc.collect()
        assert seen and seen[0]() is None, "the last message is still alive while the socket idles"
        socket.disconnect()
        assert await asyncio.wait_for(serving, 5) == "closed"

    asyncio.run(scenario())
