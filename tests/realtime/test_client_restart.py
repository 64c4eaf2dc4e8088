"""A kill -9 of the appliance in the middle of a shell: after the restart the client and the
console come back, and the recording holds every byte once, up to the kill and after."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.realtime.test_client_socket import Session, acked, open_shell, recording
from tests.support.appliance import RunningAppliance, running_appliance
from tests.support.client_socket import ShellConsole
from tests.support.personas import Personas, provision
from tests.support.sockets import CustomerClient, sign_in


@pytest.fixture
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    """An appliance of this test's own: it is killed."""
    with running_appliance(tmp_path_factory.mktemp("killed")) as running:
        yield running


@pytest.fixture
def personas(appliance: RunningAppliance) -> Personas:
    return provision(appliance)


def test_a_shell_survives_a_kill_of_the_appliance_with_its_recording_intact(
    appliance: RunningAppliance, personas: Personas
) -> None:
    session = Session(appliance, personas)
    cookie = sign_in(appliance, "rep_a", personas.rep_a.password)
    client = session.client(allowed=["shell"], flag=True)
    shell = open_shell(session, client)
    client.output(shell, 1, b"one ")
    client.output(shell, 2, b"two ")
    acked(client, shell, 2)
    client.output(shell, 3, b"three ")  # recorded or not, unacknowledged: it comes again
    session.alice.output_of(shell, until=b"three ")
    resume = session.alice.welcome["resume_token"]

    assert appliance.process is not None
    appliance.process.kill()
    appliance.process.wait()
    appliance.process = None
    appliance.start()
    started = time.monotonic()

    customer = CustomerClient(appliance, token=session.token)
    assert customer.welcome["type"] == "welcome"
    again = session.client(allowed=["shell"], flag=True)
    assert again.welcome["shells"][str(shell)] in (2, 3)
    alice = ShellConsole(appliance, cookie, resume_token=resume)
    assert alice.welcome["resumed"] is True
    state = alice.until("computer")
    while shell not in state["shells"]:
        state = alice.until("computer")
    back = time.monotonic() - started
    assert back < 5, f"client and console back {back:.1f} s after the restart"
    for sequence, payload in ((2, b"two "), (3, b"three "), (4, b"four")):
        again.output(shell, sequence, payload)
    acked(again, shell, 4)
    assert alice.output_of(shell, until=b"four").endswith(b"four")
    again.send({"type": "shell_exit", "shell": shell, "code": 0})
    alice.until("shell_exit")
    events = recording(appliance, session.lsid, 0)
    assert "".join(data for code, data in events if code == "o") == "one two three four"
    again.close()
    customer.close()
    alice.send({"type": "end", "ref": "end", "lsid": session.lsid})
    assert alice.ack("end")["ok"]
    alice.close()
