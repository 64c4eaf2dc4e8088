"""Binary frames on the bus: in one process they go straight to the subscribers; through
Redis they reach the other processes that follow their stream, byte for byte, and when
Redis cannot keep up they are dropped and counted, never queued without bound; a stream
nobody elsewhere listens to is not published. A viewer's request for a key frame reaches
the sender's process. The Redis tests run when REDIS_URL
points at a real server (as CI does)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable

import lifeline_protocol.binary as binary
import pytest
import redis.asyncio as aioredis
from lifeline_protocol.binary import FrameKind, Header

from lifeline.bus import InProcessBus
from lifeline.bus import redis as redis_bus
from lifeline.bus.redis import RedisBus
from lifeline.realtime.hub import Peer
from lifeline.realtime.streams import KeyFrameWanted, StreamRelay

needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (Redis)")

FRAME = bytes(range(256)) * 40 + b"\x00\r\n{}"  # every byte value, and nothing JSON could hold as text


def test_in_one_process_a_frame_reaches_its_subscribers_before_the_call_returns() -> None:
    bus = InProcessBus()
    got: list[tuple[int, bytes]] = []
    unsubscribe = bus.subscribe_frames(lambda stream, frame: got.append((stream, frame)))
    bus.publish_frame(3, FRAME)
    assert got == [(3, FRAME)]
    unsubscribe()
    bus.publish_frame(3, FRAME)
    assert len(got) == 1


def pair() -> tuple[RedisBus, RedisBus]:
    url = os.environ["REDIS_URL"]
    appliance = uuid.uuid4().hex  # a channel of this test's own
    first, second = RedisBus(url), RedisBus(url)
    first.configure(node_id="first", appliance_id=appliance)
    second.configure(node_id="second", appliance_id=appliance)
    return first, second


def on_two_processes(test: Callable[[RedisBus, RedisBus], Awaitable[None]]) -> None:
    """Runs `test` with two buses of one appliance, started, as two processes would have them."""

    async def run() -> None:
        first, second = pair()
        await first.start()
        await second.start()
        try:
            await test(first, second)
        finally:
            await first.stop()
            await second.stop()

    asyncio.run(run())


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@needs_redis
def test_redis_carries_frames_to_the_processes_that_follow_their_stream() -> None:
    async def test(first: RedisBus, second: RedisBus) -> None:
        here: list[tuple[int, bytes]] = []
        there: list[tuple[int, bytes]] = []
        first.subscribe_frames(lambda stream, frame: here.append((stream, frame)))
        second.subscribe_frames(lambda stream, frame: there.append((stream, frame)))
        first.follow_stream(9)  # the sender's process watches too: it hears its own frame once
        second.follow_stream(9)
        await asyncio.sleep(0.5)  # the subscriptions are made between messages
        first.publish_frame(9, FRAME)
        first.publish_frame(10, b"nobody follows this stream")
        await until(lambda: bool(there))
        await asyncio.sleep(0.3)
        assert there == [(9, FRAME)]
        assert here == [(9, FRAME), (10, b"nobody follows this stream")]

        second.unfollow_stream(9)
        await asyncio.sleep(0.5)
        first.publish_frame(9, FRAME)
        await asyncio.sleep(0.3)
        assert there == [(9, FRAME)]

    on_two_processes(test)


@needs_redis
def test_frames_redis_cannot_take_yet_are_dropped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_bus, "FRAME_QUEUE_BYTES", 100 * len(FRAME))

    async def test(first: RedisBus, second: RedisBus) -> None:
        there: list[bytes] = []
        second.subscribe_frames(lambda stream, frame: there.append(frame))
        second.follow_stream(9)
        await asyncio.sleep(0.5)
        # Published faster than anything can go out (the loop never turns meanwhile).
        for n in range(1000):
            first.publish_frame(9, n.to_bytes(4, "big") + FRAME)
        assert first.frames_dropped >= 900
        await until(lambda: len(there) >= 1000 - first.frames_dropped)
        assert [int.from_bytes(f[:4], "big") for f in there] == list(range(len(there)))

    on_two_processes(test)


@needs_redis
def test_a_viewer_in_another_process_asks_for_a_key_frame_and_gets_the_stream() -> None:
    async def test(first: RedisBus, second: RedisBus) -> None:
        sending, watching = StreamRelay(first), StreamRelay(second)
        asked: list[int] = []
        first.subscribe(lambda event: asked.append(event.stream) if isinstance(event, KeyFrameWanted) else None)
        viewer = Peer(1)
        watching.watch(viewer, 4)
        await until(lambda: asked[:1] == [4])  # the sender's process heard the viewer's
        # Once the watching process listens to the stream (it subscribes between messages),
        # it asks again: a key frame sent for the first request may have reached nobody.
        await until(lambda: asked == [4, 4])
        for sequence in (1, 2):
            header = Header(FrameKind.SCREEN, 4, sequence, key=sequence == 1)
            sending.send(header, binary.pack(header, FRAME))
        frames: list[bytes] = []

        async def two() -> None:
            while len(frames) < 2:
                message = await viewer.next_out()
                assert isinstance(message, bytes)
                frames.append(message)

        await asyncio.wait_for(two(), 5)
        assert [binary.unpack(f).payload for f in frames] == [FRAME, FRAME]

    on_two_processes(test)


@needs_redis
def test_a_stream_nobody_elsewhere_listens_to_stays_off_redis_until_a_process_follows_it() -> None:
    async def test(first: RedisBus, second: RedisBus) -> None:
        there: list[bytes] = []
        second.subscribe_frames(lambda stream, frame: there.append(frame))
        # A bare listener on the stream's channel, which no bus knows of: it hears what is published.
        listener = aioredis.from_url(os.environ["REDIS_URL"]).pubsub(ignore_subscribe_messages=True)
        try:
            first.publish_frame(9, b"into the void")  # nobody listens: Redis says so
            await asyncio.sleep(0.3)
            await listener.subscribe(f"{first.stream_prefix}9")
            first.publish_frame(9, b"not published")
            await asyncio.sleep(0.3)
            assert await listener.get_message(timeout=0.2) is None

            second.follow_stream(9)  # says so on the bus: the first process publishes again
            await asyncio.sleep(0.5)
            first.publish_frame(9, FRAME)
            await until(lambda: there == [FRAME])
            message = await listener.get_message(timeout=1)
            assert message is not None
            assert message["data"].endswith(FRAME)
        finally:
            await listener.aclose()  # type: ignore[no-untyped-call]

    on_two_processes(test)
