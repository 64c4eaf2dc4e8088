"""Frames through real sockets: a tiny app made of the appliance's socket code (run_peer,
its writer, its frame hook) and the hub's relay, served by uvicorn on a loopback port. A
socket that sends a stream's binary frames reaches every socket watching that stream as
binary frames, byte for byte; a viewer that stops reading neither slows the sender nor the
other viewers, and what it gets when it reads again decodes (every jump lands on a key
frame); a frame that is not one gets the protocol's error and the socket carries on.
(Screens through the whole appliance, with the messages that open their streams, are
test_screens.py's.)"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import lifeline_protocol.binary as binary
import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st
from lifeline_protocol import decode_console_request
from lifeline_protocol.binary import FrameKind, Header
from lifeline_protocol.common import Ack
from lifeline_protocol.console import ConsoleRequest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect

from lifeline.bus import InProcessBus
from lifeline.realtime.hub import Peer
from lifeline.realtime.socket import run_peer
from lifeline.realtime.streams import VIEWER_BYTES, StreamRelay
from tests.support.appliance import free_port


async def acknowledge(request: ConsoleRequest) -> Ack | None:
    return Ack(ref=getattr(request, "ref", None), ok=True)


class RelayApp:
    """Senders at /send, viewers of a stream at /watch/<stream> (peers kept for the test)."""

    def __init__(self) -> None:
        self.relay = StreamRelay(InProcessBus())
        self.viewers: list[Peer] = []
        self.app = Starlette(routes=[WebSocketRoute("/send", self.send), WebSocketRoute("/watch/{stream}", self.watch)])

    async def send(self, websocket: WebSocket) -> None:
        await websocket.accept()
        await run_peer(websocket, Peer(1), decode_console_request, acknowledge, frames=self.relay.send)

    async def watch(self, websocket: WebSocket) -> None:
        peer = Peer(2)
        self.viewers.append(peer)
        self.relay.watch(peer, int(websocket.path_params["stream"]))
        await websocket.accept()
        try:
            await run_peer(websocket, peer, decode_console_request, acknowledge)
        finally:
            self.relay.forget(peer)


@asynccontextmanager
async def served(app: RelayApp) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app.app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
        ws_max_size=binary.MAX_FRAME,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the test server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


def on_relay(test: Callable[[RelayApp, str], Awaitable[None]]) -> None:
    async def run() -> None:
        app = RelayApp()
        async with served(app) as url:
            await asyncio.wait_for(test(app, url), 30)

    asyncio.run(run())


def frame(stream: int, sequence: int, *, key: bool = False, size: int = 5000) -> bytes:
    return binary.pack(Header(FrameKind.SCREEN, stream, sequence, key=key), bytes([sequence % 256]) * size)


async def received_bytes(connection: ClientConnection) -> bytes:
    data = await connection.recv()
    assert isinstance(data, bytes), data
    return data


async def received_json(connection: ClientConnection) -> dict[str, Any]:
    data = await connection.recv()
    assert isinstance(data, str), data
    message: dict[str, Any] = json.loads(data)
    return message


def test_a_watching_socket_receives_the_streams_frames() -> None:
    async def test(app: RelayApp, url: str) -> None:
        async with (
            connect(f"{url}/watch/5") as viewer,
            connect(f"{url}/watch/6") as other,
            connect(f"{url}/send") as sender,
        ):
            sent = [frame(5, 1, key=True), frame(5, 2), frame(6, 1, key=True), frame(5, 3)]
            for data in sent:
                await sender.send(data)
            assert [await received_bytes(viewer) for _ in range(3)] == [sent[0], sent[1], sent[3]]
            assert await received_bytes(other) == sent[2]
            # Text still works beside the frames, on both sides.
            for each in (viewer, sender):
                await each.send(json.dumps({"type": "ping"}))
                assert (await received_json(each))["type"] == "pong"

    on_relay(test)


def test_a_viewer_joining_mid_stream_starts_at_the_next_key_frame() -> None:
    async def test(app: RelayApp, url: str) -> None:
        async with connect(f"{url}/send") as sender:
            await sender.send(frame(5, 1, key=True))
            async with connect(f"{url}/watch/5") as viewer:
                await sender.send(frame(5, 2))
                await sender.send(frame(5, 3, key=True))
                assert binary.unpack_header(await received_bytes(viewer)).sequence == 3

    on_relay(test)


class RawViewer:
    """A viewer on a bare TCP connection that reads only when told to, through a small
    buffer (websockets' client would read ahead into memory of its own; on loopback the
    kernel would grow a receive buffer to 32 MB)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str, path: str) -> RawViewer:
        host, port = url.removeprefix("ws://").split(":")
        small = socket.socket()
        small.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        small.setblocking(False)
        await asyncio.get_running_loop().sock_connect(small, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=small, limit=16 * 1024)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        return cls(reader, writer)

    async def message(self) -> bytes:
        """The next message (unmasked and unfragmented, as the appliance sends them)."""
        head = await self.reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(await self.reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await self.reader.readexactly(8), "big")
        return await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def test_a_viewer_that_stops_reading_slows_neither_the_sender_nor_the_others() -> None:
    count, size = 200, 100_000  # 20 MB: far more than the socket buffers on the way hold

    async def test(app: RelayApp, url: str) -> None:
        stalled = await RawViewer.open(url, "/watch/5")
        try:
            async with connect(f"{url}/watch/5", max_size=None) as fast, connect(f"{url}/send") as sender:
                started = time.monotonic()
                got: list[bytes] = []
                for n in range(1, count + 1):
                    await sender.send(frame(5, n, key=n % 30 == 1, size=size))
                    got.append(await received_bytes(fast))  # the fast viewer keeps pace, frame by frame
                elapsed = time.monotonic() - started
                assert [binary.unpack_header(f).sequence for f in got] == list(range(1, count + 1))
                assert app.viewers[0].frames.held <= VIEWER_BYTES
                assert app.viewers[0].frames.dropped > count / 2

                # Reading again: every frame after a jump in sequence is a key frame.
                await sender.send(frame(5, count + 1, key=True, size=size))
                sequences: list[tuple[int, bool]] = []
                while not sequences or sequences[-1][0] != count + 1:
                    header = binary.unpack_header(await stalled.message())
                    sequences.append((header.sequence, header.key))
                assert sequences[0][1]
                for (before, _), (after, key) in itertools.pairwise(sequences):
                    assert after == before + 1 or key, sequences
                assert len(sequences) < count / 2
                print(f"{count} frames of {size} bytes relayed in {elapsed:.2f} s beside a stalled viewer")
        finally:
            stalled.close()

    on_relay(test)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x00\xff\x10", "a frame starts with a 16-byte header"),
        (bytes([1, 9, 0, 0, 0, 0, 0, 1]) + bytes(8), "unknown frame kind 9"),
        (bytes([3, 1, 0, 0, 0, 0, 0, 1]) + bytes(8), "unknown frame version 3"),
    ],
)
def test_a_sent_frame_that_is_not_one_is_answered_and_the_socket_stays(data: bytes, error: str) -> None:
    async def test(app: RelayApp, url: str) -> None:
        async with connect(f"{url}/watch/1") as viewer, connect(f"{url}/send") as sender:
            await sender.send(data)
            assert await received_json(sender) == {"type": "error", "error": error}
            good = frame(1, 1, key=True)
            await sender.send(good)
            assert await received_bytes(viewer) == good

    on_relay(test)


def refusal(data: bytes) -> str:
    """What the protocol says is wrong with these bytes as a frame ("" for a frame)."""
    try:
        binary.unpack_header(data)
    except binary.FrameError as error:
        return str(error)
    return ""


# Any bytes, and headers that start right (so the later checks are reached too); at most 20
# a socket, each with a ping: under the 30 messages a second a socket may send.
frames_or_not = st.binary(max_size=40) | st.binary(min_size=16, max_size=40).map(lambda b: b"\x01\x01\x01\x00" + b)


@settings(max_examples=8, deadline=None)
@given(st.lists(frames_or_not, max_size=20))
def test_any_binary_frames_from_a_sender_are_answered_or_relayed_and_the_socket_stays(sent: list[bytes]) -> None:
    async def test(app: RelayApp, url: str) -> None:
        async with connect(f"{url}/send") as sender:
            for data in sent:
                await sender.send(data)
                await sender.send(json.dumps({"type": "ping"}))
                answer = await received_json(sender)
                refused = refusal(data)
                if refused:
                    assert answer == {"type": "error", "error": refused}
                    answer = await received_json(sender)
                assert answer["type"] == "pong"

    on_relay(test)
