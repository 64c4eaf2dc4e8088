"""The client enforces the customer's consent itself: the real program, as its own process,
against a scripted appliance that relays requests the customer never allowed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lifeline_client.consent import SECOND_ANSWER, Consent, parse_capabilities
from lifeline_protocol import client as wire
from lifeline_protocol.binary import Frame
from lifeline_protocol.common import Who

from tests.client.scripted import Certificate, ScriptedAppliance, make_certificate, run_client, stop_client

ALICE = Who(type="representative", gsnumber=1, name="Alice")


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path)


@pytest.fixture
def appliance(certificate: Certificate) -> Iterator[ScriptedAppliance]:
    scripted = ScriptedAppliance(certificate)
    yield scripted
    scripted.close()


def test_nothing_is_allowed_until_the_customer_allows_it(
    appliance: ScriptedAppliance, certificate: Certificate
) -> None:
    process = run_client(appliance.port, certificate.cert)
    try:
        hello = appliance.hello()
        assert hello.allowed == [] and hello.flag is False
        assert hello.computer.hostname and hello.computer.platform == "linux"
        for request in (
            wire.OpenShell(request="r1", shell=7),
            wire.GetSystemInfo(request="r2"),
            wire.ListFolder(request="r3"),
            wire.EndProcess(request="r4", pid=1),
            wire.SendFile(request="r5", transfer="t1", path="/etc/hostname"),
            wire.FetchFile(request="r6", transfer="t2", path="/tmp", name="x", size=1),
        ):
            appliance.send(request)
            failed = appliance.next(wire.Failed)
            assert failed.request == request.request  # type: ignore[attr-defined]
            assert failed.error.startswith("The customer has not allowed")
        # Keys for a shell that was never allowed go nowhere; the client carries on.
        appliance.send(wire.ShellInput(shell=7, data="rm -rf ~\r"))
        # The browser page's answer allows the shell; the client tells the appliance.
        appliance.send(wire.Ask(capability="shell", rep=ALICE))
        appliance.send(wire.ConsentAnswer(capability="shell", allowed=True))
        consent = appliance.next(wire.Consent)
        assert (consent.capability, consent.allowed) == ("shell", True)
        appliance.send(wire.OpenShell(request="r7", shell=7, cols=100, rows=30))
        assert appliance.next(wire.Done).request == "r7"
        appliance.send(wire.ShellInput(shell=7, data="echo $((6*7))\r"))
        output = b""
        while b"42" not in output.replace(b"6*7", b""):
            frame = appliance.next(Frame)
            output += frame.payload
        # Taken back on the client's terminal: the shell is hung up. (Within a second of the
        # browser's answer, a contrary one from the terminal would be the same question's.)
        time.sleep(SECOND_ANSWER)
        assert process.stdin is not None
        process.stdin.write("/revoke shell\n")
        process.stdin.flush()
        consent = appliance.next(wire.Consent)
        assert (consent.capability, consent.allowed) == ("shell", False)
        assert appliance.next(wire.ShellExit).shell == 7
        appliance.send(wire.OpenShell(request="r8", shell=8))
        assert appliance.next(wire.Failed).error == "The customer has not allowed a command shell"
    finally:
        out, err = stop_client(process)
    assert "refused to open a shell: The customer has not allowed a command shell" in err
    assert "refused shell_input: The customer has not allowed a command shell" in err
    assert "token-1" not in out + err  # the token is a secret: never printed


def test_unknown_and_malformed_messages_are_refused_and_logged(
    appliance: ScriptedAppliance, certificate: Certificate
) -> None:
    process = run_client(appliance.port, certificate.cert, "--allow", "files")
    try:
        hello = appliance.hello()
        assert hello.allowed == ["files"] and hello.flag is True
        appliance.send('{"type": "format_disk", "request": "x"}')
        appliance.send('{"type": "list_folder", "request": 5}')
        appliance.send("not json")
        appliance.send_binary(b"\x01\x03\x00\x00")
        appliance.send(wire.ListFolder(request="after", path="/no/such/folder"))
        failed = appliance.next(wire.Failed)
        assert (failed.request, failed.error) == ("after", "No such folder /no/such/folder")
        appliance.send(wire.ListFolder(request="nul", path="/tmp\x00/x"))
        assert appliance.next(wire.Failed).error == "Not a valid path"
        # Folders of an upload that lead out of the folder chosen: refused before anything is made.
        appliance.send(wire.FetchFile(request="climb", transfer="t1", path="/tmp", name="x", size=1, folders="a/../.."))
        assert appliance.next(wire.Failed).error == "Not a valid folder name: 'a/../..'"
        appliance.send(wire.ListFolder(request="home"))
        listing = appliance.next(wire.FolderListing).listing
        assert listing.path == str(Path.home()) and "/" in listing.roots
        assert process.poll() is None
    finally:
        _, err = stop_client(process)
    assert "refused a message from the appliance: unknown message type 'format_disk'" in err
    assert "refused a binary frame" in err
    assert "Traceback" not in err


def test_an_allowance_given_at_start_is_answered_without_asking(
    appliance: ScriptedAppliance, certificate: Certificate
) -> None:
    process = run_client(appliance.port, certificate.cert, "--allow", "all")
    try:
        assert sorted(appliance.hello().allowed) == ["control", "files", "screen", "shell", "system_info"]
        appliance.send(wire.Ask(capability="files", rep=ALICE))
        consent = appliance.next(wire.Consent)
        assert (consent.capability, consent.allowed) == ("files", True)
    finally:
        stop_client(process)


def test_the_first_answer_wins() -> None:
    consent = Consent()
    assert consent.ask("shell", "Alice")
    assert not consent.ask("shell", "Bob")  # one question at a time per capability
    assert consent.answer("shell", True)  # the terminal answered first
    assert not consent.answer("shell", False, here=False)  # the browser page's late "deny" loses
    assert consent.allows("shell")
    assert consent.answer("shell", False)  # taken back on the terminal
    assert not consent.allows("shell")
    assert parse_capabilities("all") == {"system_info", "shell", "files", "screen", "control"}
    assert parse_capabilities("shell, files") == {"shell", "files"}
    assert parse_capabilities("screen,control") == {"screen", "control"}
    with pytest.raises(ValueError, match="unknown capability 'camera'"):
        parse_capabilities("shell,camera")


def test_the_terminal_asks_and_its_answer_is_sent(appliance: ScriptedAppliance, certificate: Certificate) -> None:
    """On a real terminal the customer is asked, and answers with y."""
    from ptyprocess import PtyProcessUnicode

    from tests.client.scripted import CLIENT

    terminal = PtyProcessUnicode.spawn(
        [
            str(CLIENT),
            "attach",
            f"https://127.0.0.1:{appliance.port}/chat/token-1",
            "--ca",
            str(certificate.cert),
            "--no-browser",
        ],
        dimensions=(24, 200),
    )
    try:
        appliance.hello()
        appliance.send(wire.Ask(capability="shell", rep=ALICE))
        shown = ""
        while "Allow? [y/N]" not in shown:
            shown += terminal.read(4096)
        assert "Alice (representative) asks to open a command shell on this computer. Allow? [y/N]" in shown
        terminal.write("y\r")
        consent = appliance.next(wire.Consent)
        assert (consent.capability, consent.allowed) == ("shell", True)
        appliance.send(wire.Ask(capability="files", rep=ALICE))
        # Only what the terminal shows from now on: the first question may still be all
        # that was read, and answering before the second is asked would answer nothing.
        shown = ""
        while "Allow? [y/N]" not in shown:
            shown += terminal.read(4096)
        assert "asks to browse this computer's files and transfer files to and from it. Allow? [y/N]" in shown
        terminal.write("\r")  # the default is no
        consent = appliance.next(wire.Consent)
        assert (consent.capability, consent.allowed) == ("files", False)
        for capability, asks in (("screen", "see your screen"), ("control", "control your mouse and keyboard")):
            appliance.send(wire.Ask(capability=capability, rep=ALICE))
            shown = ""
            while "Allow? [y/N]" not in shown:
                shown += terminal.read(4096)
            assert f"Alice (representative) asks to {asks}. Allow? [y/N]" in shown
            terminal.write("y\r")
            consent = appliance.next(wire.Consent)
            assert (consent.capability, consent.allowed) == (capability, True)
        terminal.write("/revoke control\r")
        consent = appliance.next(wire.Consent)
        assert (consent.capability, consent.allowed) == ("control", False)
    finally:
        terminal.terminate(force=True)
        terminal.close()
