"""The typing indicator: a rep typing is shown to the customer and the other reps in the
session, the customer typing to the reps; never to the one typing, never to a console
outside the session, and at most one signal every two seconds per person and session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, Socket, sign_in, start_by_issue


@pytest.fixture
def session(appliance: RunningAppliance, personas: Personas) -> Iterator[tuple[Console, CustomerClient, str]]:
    alice = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Tess", id=str(personas.issue_started)))
    lsid = customer.welcome["session"]["lsid"]
    alice.send({"type": "take", "ref": "take", "lsid": lsid})
    assert alice.ack("take")["ok"]
    yield alice, customer, lsid
    alice.send({"type": "end", "ref": "end", "lsid": lsid})
    alice.ack("end")
    alice.send({"type": "logout"})
    alice.close()
    customer.close()


def typing_seen(socket: Socket, within: float) -> list[dict[str, Any]]:
    """Every typing message that arrives in `within` seconds."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            seen.append(socket.until("typing", timeout=left))
        except TimeoutError:
            break
    return seen


def test_the_customer_sees_the_rep_typing_and_the_rep_sees_the_customer(
    session: tuple[Console, CustomerClient, str], personas: Personas
) -> None:
    alice, customer, lsid = session
    alice.send({"type": "typing", "lsid": lsid})
    shown = customer.until("typing")
    assert (shown["lsid"], shown["who"]["type"], shown["who"]["name"]) == (lsid, "representative", "Alice Rep")
    customer.send({"type": "typing"})
    shown = alice.until("typing")
    assert (shown["lsid"], shown["who"]["type"]) == (lsid, "customer")
    assert shown["who"]["gsnumber"] == customer.welcome["gsnumber"]


def test_typing_is_throttled_and_not_echoed(session: tuple[Console, CustomerClient, str]) -> None:
    alice, customer, _ = session
    for _ in range(10):
        customer.send({"type": "typing"})
    assert len(typing_seen(alice, 1.5)) == 1
    assert typing_seen(customer, 0.5) == []  # not its own
    time.sleep(0.6)  # two seconds after the first: the next one passes again
    customer.send({"type": "typing"})
    assert len(typing_seen(alice, 1.0)) == 1


def test_a_console_outside_the_session_cannot_signal_typing_into_it(
    appliance: RunningAppliance, personas: Personas, session: tuple[Console, CustomerClient, str]
) -> None:
    _, customer, lsid = session
    bob = Console(appliance, sign_in(appliance, "rep_b", personas.rep_b.password))
    bob.send({"type": "typing", "lsid": lsid, "ref": "t"})
    assert bob.ack("t") == {"type": "ack", "ref": "t", "ok": False, "error": "You are not in this session"}
    assert typing_seen(customer, 1.0) == []
    bob.send({"type": "logout"})
    bob.close()
