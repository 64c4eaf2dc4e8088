"""The customer's connection as the reps see it, live: connected, reconnecting (their socket
closed; a reload comes back within seconds), gone. A customer gone for good ends their
session at the moment they left: a waiting one as abandoned, so no rep takes a ghost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lifeline.sessions.queries import session_by_lsid
from tests.support.appliance import RunningAppliance, running_appliance
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, sign_in, start_by_issue

GRACE = 2
PING = 5  # not the 20 s default: a silent customer is found within 10 s, not 40


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    env = {"LIFELINE_PING_TIMEOUT": str(PING)}
    with running_appliance(tmp_path_factory.mktemp("appliance"), env=env) as running:
        yield running


@pytest.fixture(scope="module", autouse=True)
def short_grace(appliance: RunningAppliance) -> None:
    appliance.cli_settled("settings", "set", "customer_reconnect_seconds", str(GRACE))


@pytest.fixture
def console(appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    opened = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    yield opened
    opened.send({"type": "logout"})
    opened.close()


def arrive(appliance: RunningAppliance, personas: Personas, name: str) -> tuple[CustomerClient, str]:
    token = start_by_issue(appliance, name, id=str(personas.issue_started))
    customer = CustomerClient(appliance, token=token)
    return customer, token


def state_of(console: Console, lsid: str, *, until: Any, timeout: float = 10) -> dict[str, Any]:
    """The session's next state (as the console is told) for which `until` holds."""
    deadline = time.monotonic() + timeout
    while True:
        message = console.until("session", timeout=max(0.1, deadline - time.monotonic()))
        if message["session"]["lsid"] == lsid and until(message["session"]):
            return dict(message["session"])


def connection(value: str) -> Any:
    return lambda state: state["customer"]["connection"] == value


def test_a_waiting_customer_who_closes_the_tab_is_reconnecting_then_leaves_the_queue(
    appliance: RunningAppliance, personas: Personas, console: Console
) -> None:
    customer, _ = arrive(appliance, personas, "Closer")
    lsid = customer.welcome["session"]["lsid"]
    assert state_of(console, lsid, until=connection("connected"))["status"] == "waiting"
    left = time.time()
    customer.close()
    assert state_of(console, lsid, until=connection("reconnecting"))["status"] == "waiting"
    ended = state_of(console, lsid, until=lambda s: s["status"] == "ended")
    assert ended["customer"]["connection"] == "gone"
    assert abs(ended["end_time"] - left) < 1.0  # when they left, not when the appliance gave up
    fresh = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    assert lsid not in {s["lsid"] for s in fresh.welcome["sessions"]}  # not in any queue
    fresh.send({"type": "take", "ref": "ghost", "lsid": lsid})
    assert fresh.ack("ghost")["ok"] is False
    fresh.send({"type": "logout"})
    fresh.close()


def test_a_reload_shows_reconnecting_then_connected_and_the_session_stays(
    appliance: RunningAppliance, personas: Personas, console: Console
) -> None:
    customer, token = arrive(appliance, personas, "Reloader")
    lsid = customer.welcome["session"]["lsid"]
    customer.close()
    state_of(console, lsid, until=connection("reconnecting"))
    back = CustomerClient(appliance, token=token)
    assert back.welcome["type"] == "welcome"
    assert state_of(console, lsid, until=connection("connected"))["status"] == "waiting"
    time.sleep(GRACE + 1.5)
    back.send({"type": "ping"})
    assert back.until("pong")
    back.send({"type": "end", "ref": "end"})
    assert back.ack("end")["ok"]
    back.close()


def test_a_customer_gone_from_a_taken_session_ends_it_at_the_moment_they_left(
    appliance: RunningAppliance, personas: Personas, console: Console
) -> None:
    customer, _ = arrive(appliance, personas, "Leaver")
    lsid = customer.welcome["session"]["lsid"]
    console.send({"type": "take", "ref": "take", "lsid": lsid})
    assert console.ack("take")["ok"]
    left = time.time()
    customer.close()
    assert state_of(console, lsid, until=connection("reconnecting"))["status"] == "active"
    end = console.event("Session End", timeout=GRACE + 8)
    assert end["event"]["performed_by"]["type"] == "customer"
    ended = state_of(console, lsid, until=lambda s: s["status"] == "ended")
    assert abs(ended["end_time"] - left) < 1.0
    assert end["event"]["at"] - ended["end_time"] >= GRACE - 0.5  # logged later, dated when they left


def test_a_restarted_appliance_ends_what_a_customer_left_before_the_restart(
    appliance: RunningAppliance, personas: Personas
) -> None:
    customer, _ = arrive(appliance, personas, "Before Restart")
    lsid = customer.welcome["session"]["lsid"]
    customer.close()
    appliance.stop()  # before the grace is over: this process's timers are lost
    appliance.start()
    deadline = time.monotonic() + GRACE + 10
    while appliance.with_session(lambda s: _status(s, lsid)) != "ended":
        assert time.monotonic() < deadline, "the restarted appliance left the session waiting"
        time.sleep(0.2)


def _status(session: Session, lsid: str) -> str:
    found = session_by_lsid(session, lsid)
    assert found is not None
    return found.status


def test_a_customer_lost_silently_is_found_by_the_ping_and_shown_reconnecting(
    appliance: RunningAppliance, personas: Personas, console: Console
) -> None:
    customer, _ = arrive(appliance, personas, "Silent")
    lsid = customer.welcome["session"]["lsid"]
    state_of(console, lsid, until=connection("connected"))
    silent = time.monotonic()
    customer.socket.go_silent()  # no close, no answer to the appliance's pings (every PING s, PING s to answer)
    state_of(console, lsid, until=connection("reconnecting"), timeout=2 * PING + 10)
    assert time.monotonic() - silent >= PING - 1  # found by the ping, not by anything sooner
    assert state_of(console, lsid, until=lambda s: s["status"] == "ended")["customer"]["connection"] == "gone"
