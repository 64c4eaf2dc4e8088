"""A presentation across two appliance processes (PostgreSQL and Redis shared): the
presenter's console on one, an attendee on each; chat lines, who attends and the end reach
everyone. Runs when DATABASE_URL and REDIS_URL point at real servers (as CI does)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from lifeline_protocol import console as wire

from tests.support.appliance import RunningAppliance, two_processes
from tests.support.personas import Personas, provision
from tests.support.sockets import Attendee, Console, sign_in

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)",
)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningAppliance, RunningAppliance]]:
    with two_processes(tmp_path_factory.mktemp("pair")) as pair:
        yield pair


@pytest.fixture(scope="module")
def people(pair: tuple[RunningAppliance, RunningAppliance]) -> Personas:
    return provision(pair[0])


def test_attendees_on_either_process_share_the_presentation(
    pair: tuple[RunningAppliance, RunningAppliance], people: Personas
) -> None:
    first, second = pair
    alice = Console(first, sign_in(first, "rep_a", people.rep_a.password))
    alice.send(wire.PresentationStart(ref="present"))
    started = alice.ack("present")["result"]
    near = Attendee(first, key=started["short_key"], name="Near Nell")
    far = Attendee(second, key=started["short_key"], name="Far Fran")
    assert far.welcome["presentation"]["presenter"] == "Alice Rep"
    while [a["name"] for a in near.until("state")["presentation"]["attendees"]] != ["Near Nell", "Far Fran"]:
        pass

    far.send({"type": "chat", "ref": "f1", "body": "Hello from the other node"})
    assert far.ack("f1")["ok"]
    assert near.event("Chat Message")["event"]["body"] == "Hello from the other node"
    assert alice.event("Chat Message")["event"]["performed_by"]["name"] == "Far Fran"
    alice.send(wire.Chat(ref="a1", lsid=started["lsid"], body="Hello both"))
    assert alice.ack("a1")["ok"]
    assert far.event("Chat Message")["event"]["body"] == "Hello both"

    alice.send(wire.PresentationEnd(ref="end", lsid=started["lsid"]))
    assert alice.ack("end")["ok"]
    assert far.event("Session End")["event"]["data"] == [["reason", "ended by presenter"]]
    assert far.close_code() == 4410
    assert near.close_code() == 4410
    alice.send({"type": "logout"})
    alice.close()
