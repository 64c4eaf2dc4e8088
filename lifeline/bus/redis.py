"""The Redis bus: live events cross between appliance processes that share a database.

Events committed here are delivered here at once and published, in commit order, by one
publisher task; a subscriber task delivers other processes' events. The channel is named
after the appliance's id, so appliances sharing a Redis server do not hear each other.

If Redis goes away, every task retries each second on a new connection; events committed
meanwhile wait for the publisher (in order, up to QUEUE_LIMIT). Events other processes
published while this one was not listening are gone (pub/sub keeps nothing): on listening
again it delivers `BusResumed` here, and the hub reads what its sockets show afresh from the
database. Nothing durable rides on the bus: caches also poll the change stamps, and clients
resume from the database when they reconnect.

Binary frames go on channels of their own, one per stream, as raw bytes (the sending
node's id, length-prefixed, then the frame: no JSON, no base64), through a publisher and a
subscriber of their own so a screen never delays a chat line. A process subscribes only to
the streams someone there watches, and says so (StreamFollowed); a stream nobody elsewhere
listens to is not published for a while, so a process whose viewers are all its own does
not send every screen through Redis. Frames waiting for Redis are bounded in bytes; past
that, new ones are dropped and counted (the viewers' relay sees the jump in sequence and
asks for a key frame).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from lifeline.bus.base import Bus, BusResumed, StreamFollowed
from lifeline.bus.wire import decode, encode, is_wire_event

log = logging.getLogger("lifeline.bus")

RETRY_SECONDS = 1.0
QUEUE_LIMIT = 100_000
FRAME_QUEUE_BYTES = 8 * 1024 * 1024  # frames waiting for Redis, at most
FRAME_POLL_SECONDS = 0.1  # how soon a newly watched stream is subscribed to
DROP_LOG_SECONDS = 10.0  # one log line about dropped frames per this many seconds
UNHEARD_SECONDS = 1.0  # a stream nobody else listened to is not published for this long


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.node_id = ""
        self.channel = "lifeline:events"
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self.stream_prefix = "lifeline:stream:"
        self._frames: deque[bytes] = deque()
        self._frame_bytes = 0
        self._frames_waiting = asyncio.Event()
        self._followed: dict[int, int] = {}  # stream -> how many follow it here
        self._unheard: dict[int, float] = {}  # stream -> until when nobody else is thought to listen
        self._dropped_logged = 0.0

    def configure(self, *, node_id: str, appliance_id: str) -> None:
        self.node_id = node_id
        self.channel = f"lifeline:{appliance_id}:events"
        self.stream_prefix = f"lifeline:{appliance_id}:stream:"

    def publish_local(self, event: Any) -> None:
        self.deliver(event)
        if is_wire_event(event):
            try:
                self._outgoing.put_nowait(encode(event, self.node_id))
            except asyncio.QueueFull:
                log.error("Redis is not keeping up; dropped a live event for other processes")

    def publish_frame(self, stream: int, frame: bytes) -> None:
        self.deliver_frame(stream, frame)
        if stream in self._unheard:
            if self._unheard[stream] > time.monotonic():
                return
            del self._unheard[stream]
        origin = self.node_id.encode()
        message = bytes([len(origin)]) + origin + stream.to_bytes(4, "big") + frame
        if self._frame_bytes + len(message) > FRAME_QUEUE_BYTES:
            self.frames_dropped += 1
            now = time.monotonic()
            if now - self._dropped_logged >= DROP_LOG_SECONDS:
                self._dropped_logged = now
                log.warning(
                    "Redis is not keeping up; %d frames for other processes dropped so far", self.frames_dropped
                )
            return
        self._frames.append(message)
        self._frame_bytes += len(message)
        self._frames_waiting.set()

    def follow_stream(self, stream: int) -> None:
        self._followed[stream] = self._followed.get(stream, 0) + 1

    def unfollow_stream(self, stream: int) -> None:
        left = self._followed.pop(stream, 0) - 1
        if left > 0:
            self._followed[stream] = left

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep_connected("publishing to Redis", self._publish)),
            asyncio.create_task(self._keep_connected("listening to Redis", self._subscribe)),
            asyncio.create_task(self._keep_connected("publishing frames to Redis", self._publish_frames)),
            asyncio.create_task(self._keep_connected("listening to Redis for frames", self._subscribe_frames)),
        ]
        # Start serving only once this process hears the others.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_connected(self, what: str, work: Callable[[aioredis.Redis], Awaitable[None]]) -> None:
        """Runs `work` with a connection of its own, again on a new one whenever it fails."""
        while True:
            client = aioredis.from_url(self.url)
            try:
                await work(client)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("%s failed (%s); retrying", what, error)
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def _publish(self, client: aioredis.Redis) -> None:
        while True:
            message = await self._outgoing.get()
            try:
                await client.publish(self.channel, message)
            except Exception:
                self._requeue(message)
                raise

    def _requeue(self, message: bytes) -> None:
        # Put it back at the front: order matters more than speed while Redis recovers.
        pending = [message]
        while not self._outgoing.empty():
            pending.append(self._outgoing.get_nowait())
        for item in pending:
            with contextlib.suppress(asyncio.QueueFull):
                self._outgoing.put_nowait(item)

    async def _subscribe(self, client: aioredis.Redis) -> None:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            if self._subscribed.is_set():
                log.warning("listening to Redis again; live state is read afresh from the database")
                self.deliver(BusResumed())
            self._subscribed.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                decoded = decode(message["data"])
                if decoded is None:
                    continue
                origin, event = decoded
                if origin != self.node_id:
                    if isinstance(event, StreamFollowed):
                        self._unheard.pop(event.stream, None)
                    self.deliver(event)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _publish_frames(self, client: aioredis.Redis) -> None:
        while True:
            await self._frames_waiting.wait()
            while self._frames:
                message = self._frames.popleft()
                self._frame_bytes -= len(message)
                stream = self._stream_of(message)
                try:
                    heard = await client.publish(f"{self.stream_prefix}{stream}", message)
                except Exception:
                    # Lost: frames are perishable, and the viewers' relay asks for a key frame.
                    self.frames_dropped += 1
                    raise
                if not heard:
                    self._unheard[stream] = time.monotonic() + UNHEARD_SECONDS
            self._frames_waiting.clear()

    def _stream_of(self, message: bytes) -> int:
        start = 1 + message[0]
        return int.from_bytes(message[start : start + 4], "big")

    async def _subscribe_frames(self, client: aioredis.Redis) -> None:
        """Polls for changes to the streams followed here between messages (a pub/sub
        connection that follows no stream would otherwise have nothing to wait on)."""
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        subscribed: set[int] = set()
        try:
            while True:
                wanted = set(self._followed)
                if wanted - subscribed:
                    await pubsub.subscribe(*(f"{self.stream_prefix}{s}" for s in wanted - subscribed))
                    for stream in wanted - subscribed:
                        self.publish_local(StreamFollowed(stream))
                if subscribed - wanted:
                    await pubsub.unsubscribe(*(f"{self.stream_prefix}{s}" for s in subscribed - wanted))
                subscribed = wanted
                if not subscribed:
                    await asyncio.sleep(FRAME_POLL_SECONDS)
                    continue
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=FRAME_POLL_SECONDS)
                if message is not None and message.get("type") == "message":
                    self._frame_arrived(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _frame_arrived(self, data: bytes) -> None:
        start = 1 + data[0] if data else 0
        if len(data) < start + 4:
            log.error("a message on a stream channel is not a frame; ignored")
            return
        if data[1:start] == self.node_id.encode():
            return  # this process's own: delivered here when it was published
        self.deliver_frame(int.from_bytes(data[start : start + 4], "big"), data[start + 4 :])
