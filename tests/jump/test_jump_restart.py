"""kill -9 the appliance with Jump Clients connected: after its restart they all come back,
no faster than the connect rate lets them (the others are told 1013 and try again)."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from websockets.exceptions import ConnectionClosed

from lifeline.jump.models import JumpClient
from tests.jump.jumpclient import FakeJumpClient, JumpSocket
from tests.support.appliance import RunningAppliance, eventually, running_appliance

CLIENTS = 30
RATE = 5


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    with running_appliance(Path(tmp_path_factory.mktemp("restart"))) as running:
        yield running


def back(client: FakeJumpClient, refusals: list[int]) -> JumpSocket:
    """Connect until welcomed, waiting a little after each 1013 (as the client does, shorter)."""
    while True:
        try:
            socket, answer = client.connect()
        except (ConnectionClosed, OSError, TimeoutError):
            answer = {}
        if answer.get("type") == "welcome":
            return socket
        refusals.append(1)
        time.sleep(random.uniform(0.05, 0.3))


def online(appliance: RunningAppliance) -> int:
    def count(session: Session) -> int:
        return int(session.scalar(select(func.count()).where(JumpClient.connected_node.is_not(None))) or 0)

    return appliance.with_session(count)


def test_every_client_is_back_within_the_rate_after_kill_9(appliance: RunningAppliance) -> None:
    appliance.cli("jump-group", "add", "Storm")
    made = appliance.cli_json("jump-installer", "add", "--group", "Storm")
    clients = [FakeJumpClient(appliance, f"storm-{n}") for n in range(CLIENTS)]
    for client in clients:
        client.install(made["key"])
    sockets = [back(client, []) for client in clients]
    assert online(appliance) == CLIENTS

    assert appliance.process is not None
    appliance.process.send_signal(signal.SIGKILL)
    appliance.process.wait()
    for socket in sockets:
        socket.close()
    appliance.cli("settings", "set", "jump_connect_rate", str(RATE))
    appliance.start()

    refusals: list[int] = []
    started = time.monotonic()
    sockets = [back(client, refusals) for client in clients]
    took = time.monotonic() - started
    # A full bucket lets RATE in at once; the rest come at RATE a second.
    assert took >= (CLIENTS - RATE) / RATE * 0.8, took
    assert refusals, "the connect rate refused nobody"
    # All online on the new process (the dead process's marks are overwritten as each comes back).
    eventually(lambda: _assert(online(appliance) == CLIENTS))
    for socket in sockets:
        socket.close()


def _assert(condition: bool) -> None:
    assert condition
