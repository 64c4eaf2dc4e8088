"""Frames the protocol does not expect, sent to the real sockets: each gets the protocol's
error and the socket carries on, and however a socket ends its peer is let go (no rep left
listed by get_logged_in_reps, no customer left waiting in a queue)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import CommandApi
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, Socket, sign_in, start_by_issue

# Each is answered with {"type": "error"} and the socket stays open.
ANSWERED: list[tuple[str, Callable[[Socket], None]]] = [
    ("binary", lambda s: s.socket.send_binary(b"\x00\xff\x10")),
    ("binary JSON", lambda s: s.socket.send_binary(b'{"type": "ping"}')),
    ("not JSON", lambda s: s.socket.send("{nope")),
    ("deeply nested", lambda s: s.socket.send("[" * 30000 + "]" * 30000)),
    ("not an object", lambda s: s.socket.send(json.dumps(["type", "ping"]))),
    ("type not text", lambda s: s.socket.send(json.dumps({"type": 5}))),
    ("too long", lambda s: s.socket.send(json.dumps({"type": "chat", "body": "x" * 70_000}))),
    ("unknown type", lambda s: s.send({"type": "dance", "ref": "d"})),
    ("hello again", lambda s: s.send({"type": "hello", "ref": "h"})),
]


@pytest.fixture(scope="module", autouse=True)
def short_grace(appliance: RunningAppliance) -> None:
    appliance.cli_settled("settings", "set", "console_reconnect_seconds", "1")
    appliance.cli_settled("settings", "set", "customer_reconnect_seconds", "1")


def logged_in(api: CommandApi, personas: Personas) -> set[str]:
    return {rep.get("id") or "" for rep in api.call("get_logged_in_reps", personas.admin.params)}


def answered_and_alive(socket: Socket, name: str) -> None:
    answer = socket.until("error", "ack")
    assert answer.get("ok") is not True and answer.get("error"), name
    socket.send({"type": "ping"})
    assert socket.until("pong")["type"] == "pong", name


@pytest.mark.parametrize(("name", "send"), ANSWERED, ids=[name for name, _ in ANSWERED])
def test_a_console_answers_a_bad_frame_and_lets_go_when_it_closes(
    appliance: RunningAppliance,
    personas: Personas,
    api: CommandApi,
    name: str,
    send: Callable[[Socket], None],
) -> None:
    console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    send(console)
    answered_and_alive(console, name)
    eventually(lambda: _listed(api, personas, True))
    console.close()  # dropped, not logged out: gone once the grace is over
    eventually(lambda: _listed(api, personas, False), timeout=10)


@pytest.mark.parametrize(("name", "send"), ANSWERED, ids=[name for name, _ in ANSWERED])
def test_a_customer_answers_a_bad_frame_and_leaves_the_queue_when_gone(
    appliance: RunningAppliance, personas: Personas, node: ConsoleNode, name: str, send: Callable[[Socket], None]
) -> None:
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Fuzz", id=str(personas.issue_started)))
    lsid = customer.welcome["session"]["lsid"]
    send(customer)
    answered_and_alive(customer, name)
    assert node.session(lsid).status == "waiting"
    customer.close()
    eventually(lambda: _ended(node, lsid), timeout=10)


def test_frames_beyond_the_size_limit_close_the_socket_and_the_peers_are_let_go(
    appliance: RunningAppliance, personas: Personas, api: CommandApi, node: ConsoleNode
) -> None:
    console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Huge", id=str(personas.issue_started)))
    lsid = customer.welcome["session"]["lsid"]
    for socket in (console, customer):
        socket.socket.send_binary(b"x" * (2 * 1024 * 1024))
        with pytest.raises(ConnectionClosed):
            socket.until("never")
    eventually(lambda: _listed(api, personas, False), timeout=10)
    eventually(lambda: _ended(node, lsid), timeout=10)


def _listed(api: CommandApi, personas: Personas, expected: bool) -> None:
    assert (str(personas.rep_a.id) in logged_in(api, personas)) is expected


def _ended(node: ConsoleNode, lsid: str) -> None:
    assert node.session(lsid).status == "ended"
