"""The Redis bus: live events cross between appliance processes that share a database.

Events committed here are delivered here at once and published, in commit order, by one
publisher task; a subscriber task delivers other processes' events. The channel is named
after the appliance's id, so appliances sharing a Redis server do not hear each other.

If Redis goes away, both tasks retry. Nothing durable rides on the bus: caches also poll
the change stamps, and clients resume from the database when they reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import redis.asyncio as aioredis

from lifeline.bus.base import Bus
from lifeline.bus.wire import decode, encode, is_wire_event

log = logging.getLogger("lifeline.bus")

RETRY_SECONDS = 1.0
QUEUE_LIMIT = 100_000


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.node_id = ""
        self.channel = "lifeline:events"
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()

    def configure(self, *, node_id: str, appliance_id: str) -> None:
        self.node_id = node_id
        self.channel = f"lifeline:{appliance_id}:events"

    def publish_local(self, event: Any) -> None:
        self.deliver(event)
        if is_wire_event(event):
            try:
                self._outgoing.put_nowait(encode(event, self.node_id))
            except asyncio.QueueFull:
                log.error("Redis is not keeping up; dropped a live event for other processes")

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._publish()), asyncio.create_task(self._subscribe())]
        # Start serving only once this process hears the others.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _publish(self) -> None:
        while True:
            client = aioredis.from_url(self.url)
            try:
                while True:
                    message = await self._outgoing.get()
                    try:
                        await client.publish(self.channel, message)
                    except Exception:
                        self._requeue(message)
                        raise
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("publishing to Redis failed (%s); retrying", error)
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _requeue(self, message: bytes) -> None:
        # Put it back at the front: order matters more than speed while Redis recovers.
        pending = [message]
        while not self._outgoing.empty():
            pending.append(self._outgoing.get_nowait())
        for item in pending:
            with contextlib.suppress(asyncio.QueueFull):
                self._outgoing.put_nowait(item)

    async def _subscribe(self) -> None:
        while True:
            client = aioredis.from_url(self.url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    decoded = decode(message["data"])
                    if decoded is None:
                        continue
                    origin, event = decoded
                    if origin != self.node_id:
                        self.deliver(event)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("listening to Redis failed (%s); retrying", error)
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await client.aclose()
