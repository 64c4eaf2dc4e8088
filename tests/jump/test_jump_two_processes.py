"""A Jump Client's socket on one appliance process, the rest of the appliance on another
(PostgreSQL and Redis shared): a JumpCommand published anywhere reaches the process holding
the socket, `started` comes back as JumpAnswered for every process, and a newer socket on
one process replaces the older on the other. Runs when DATABASE_URL and REDIS_URL point at
real servers (as CI does)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from lifeline_protocol import encode
from lifeline_protocol import jump as wire

from lifeline.appliance.settings import APPLIANCE_ID, load_settings
from lifeline.bus import wire as bus_wire
from lifeline.jump import actions as jump
from lifeline.jump.live import JumpAnswered, JumpCommand
from lifeline.jump.models import JumpClient
from tests.jump.jumpclient import FakeJumpClient
from tests.support.appliance import RunningAppliance, eventually, needs_two_processes

pytestmark = needs_two_processes


class BusTap:
    """The appliance's live events as any third process on its Redis sees them (and can publish)."""

    def __init__(self, appliance: RunningAppliance) -> None:
        appliance_id = appliance.call(load_settings)[APPLIANCE_ID]
        self.channel = f"lifeline:{appliance_id}:events"
        self.redis = redis.Redis.from_url(os.environ["REDIS_URL"])
        self.listener = self.redis.pubsub()
        self.listener.subscribe(self.channel)
        self.listener.get_message(timeout=5)  # the subscription's confirmation

    def publish(self, event: Any) -> None:
        self.redis.publish(self.channel, bus_wire.encode(event, "a-test-process"))

    def next_of(self, kind: type[Any], timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.listener.get_message(timeout=1)
            if message and message["type"] == "message":
                decoded = bus_wire.decode(message["data"])
                if decoded is not None and isinstance(decoded[1], kind):
                    return decoded[1]
        raise AssertionError(f"no {kind.__name__} within {timeout} s")

    def close(self) -> None:
        self.listener.close()
        self.redis.close()


@pytest.fixture
def tap(pair: tuple[RunningAppliance, RunningAppliance]) -> Iterator[BusTap]:
    bus = BusTap(pair[0])
    try:
        yield bus
    finally:
        bus.close()


def test_a_command_reaches_the_socket_on_the_other_process(
    pair: tuple[RunningAppliance, RunningAppliance], tap: BusTap
) -> None:
    first, second = pair
    first.cli("jump-group", "add", "Across")
    installer = first.cli_json("jump-installer", "add", "--group", "Across")
    client = FakeJumpClient(first, "far-away")
    client.install(installer["key"])
    socket, welcome = client.connect(to=second)
    assert welcome["type"] == "welcome"
    start = wire.StartSession(request="r-1", lsid="a" * 32, token="t" * 40, allowed=["shell"], rep="Alice")
    tap.publish(JumpCommand(jump_client=client.id, message=encode(start).decode()))
    told = socket.next()
    assert told["type"] == "start_session" and told["request"] == "r-1" and told["rep"] == "Alice"
    socket.send(wire.Started(request="r-1", error=""))
    assert tap.next_of(JumpAnswered) == JumpAnswered(request="r-1", error="")

    # The same installation again, through the first process: the older socket closes.
    moved, welcome = client.connect(to=first)
    assert welcome["type"] == "welcome"
    assert socket.close_code()[0] == 4409

    def online_on_first() -> None:
        row = first.call(lambda s: s.get(JumpClient, client.id))
        assert row is not None and row.connected_node is not None

    eventually(online_on_first)
    # Removed through the first process's database: the socket there is told (its next round).
    first.call(jump.revoke, client.id)
    assert moved.close_code(timeout=15)[0] == 4403
