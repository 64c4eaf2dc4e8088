"""Reconnecting: after a drop (an appliance restarting) the client comes back by itself,
says hello again, resends exactly the shell output the appliance has not recorded, closes
shells the appliance no longer has, and stops for good on 4410 (gone) or 4409 (replaced)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from lifeline_protocol import client as wire
from lifeline_protocol.binary import Frame
from lifeline_protocol.close import CloseCode

from tests.client.scripted import Certificate, ScriptedAppliance, make_certificate, run_client, stop_client


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path)


@pytest.fixture
def appliance(certificate: Certificate) -> Iterator[ScriptedAppliance]:
    scripted = ScriptedAppliance(certificate)
    yield scripted
    scripted.close()


def output_until(appliance: ScriptedAppliance, text: bytes, *, only: bool = False) -> list[Frame]:
    """Shell 3's frames until its output shows `text`; `only`: no other shell may send."""
    frames: list[Frame] = []
    while text not in b"".join(f.payload for f in frames):
        frame = appliance.next(Frame)
        assert frame.header.stream == 3 or not only, "a frame of a shell the appliance no longer has"
        if frame.header.stream == 3:
            frames.append(frame)
    return frames


def test_after_a_drop_the_unrecorded_output_comes_again(appliance: ScriptedAppliance, certificate: Certificate) -> None:
    appliance.welcome = msgspec.structs.replace(appliance.welcome, system_info=True)
    process = run_client(appliance.port, certificate.cert, "--allow", "shell,system_info")
    try:
        appliance.hello()
        automatic = appliance.next(wire.SystemInfo)
        assert automatic.request is None and automatic.categories[0].id == "overview"
        appliance.send(wire.OpenShell(request="a", shell=3))
        appliance.send(wire.OpenShell(request="b", shell=4))
        appliance.send(wire.ShellInput(shell=3, data="printf 'one\\n'; sleep 1; printf 'two%s\\n' 2\r"))
        first = output_until(appliance, b"one")
        recorded = first[0].header.sequence  # the appliance recorded only the first frame
        # The appliance restarts: shell 3 is still open there, shell 4 is not.
        appliance.welcome = msgspec.structs.replace(appliance.welcome, shells={"3": recorded}, system_info=False)
        appliance.drop(CloseCode.RESTART)
        hello = appliance.hello(timeout=15)
        assert sorted(hello.allowed) == ["shell", "system_info"]
        again = output_until(appliance, b"two2", only=True)
        sequences = [f.header.sequence for f in again]
        assert sequences == list(range(recorded + 1, recorded + 1 + len(again)))
        assert b"".join(f.payload for f in first[1:]) in b"".join(f.payload for f in again)
        appliance.send(wire.ShellInput(shell=4, data="echo gone\r"))  # closed on the welcome: nothing
        appliance.send(wire.ShellInput(shell=3, data="exit 5\r"))
        exit_message = appliance.next(wire.ShellExit)
        assert (exit_message.shell, exit_message.code) == (3, 5)
    finally:
        _, err = stop_client(process)
    assert "refused shell_input: no shell 4" in err


@pytest.mark.parametrize(
    ("code", "said"),
    [(CloseCode.GONE, "The support session is over."), (CloseCode.REPLACED, "Another Lifeline client took over")],
)
def test_gone_and_replaced_stop_the_client(
    appliance: ScriptedAppliance, certificate: Certificate, code: int, said: str
) -> None:
    appliance.refuse = code
    process = run_client(appliance.port, certificate.cert)
    try:
        appliance.hello()
        out, err = process.communicate(timeout=20)
    finally:
        stop_client(process)
    assert process.returncode == 0 and said in out, err
    time.sleep(1)
    assert appliance.hellos.empty()  # it did not come back
