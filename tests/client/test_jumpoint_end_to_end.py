"""Jumpoints end to end: `lifeline-client jump install` with a Jumpoint installer, `jump run`
in the foreground (the real program), then a representative's console: a Shell Jump to an
SSH server the test runs on loopback (a command typed and seen, recorded, CommandShellRecording
and SupportSession's `jumpoint` element through the Reporting API, XSD-checked) and a push
to the same host, whose client joins its session (the console sees the computer)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.scripted import CLIENT
from tests.client.test_end_to_end import Rep, open_shell, typed
from tests.client.test_jumpoint_push import processes_under
from tests.support.appliance import RunningAppliance, running_appliance
from tests.support.personas import Personas
from tests.support.reporting import NS_LATER, ReportingApi, child, children
from tests.support.ssh_server import PASSWORD, USERNAME, SshServer, ssh_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    """The site's name is `localhost`, which the pushed client ("on the host") can resolve."""
    with running_appliance(tmp_path_factory.mktemp("appliance"), hostname="localhost") as running:
        yield running


@pytest.fixture
def jumpoint(appliance: RunningAppliance, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A Jumpoint installed in a scratch folder and running in the foreground; its id."""
    appliance.cli("jump-group", "add", "Lab", "--member", "rep_a")
    installer = appliance.cli_json("jump-installer", "add", "--group", "Lab", "--jumpoint", "Lab Jumpoint", "--json")
    folder = tmp_path / "jumpoint"
    installed = subprocess.run(
        [str(CLIENT), "jump", "install", appliance.https, "--key", installer["key"], "--dir", str(folder),
         "--ca", str(appliance.cert_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    state = json.loads(next(folder.glob("*.json")).read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen(
        [str(CLIENT), "jump", "run", "--dir", str(folder)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        yield int(state["id"]), folder
    finally:
        process.terminate()
        try:
            _, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        assert "Traceback" not in err, err
        assert PASSWORD not in err


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SshServer]:
    home = tmp_path / "host-home"
    home.mkdir()
    with ssh_server(home, path="/usr/bin:/bin") as running:
        yield running
    for pid in processes_under(home):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def online(rep: Rep, jumpoint_id: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = rep.request(type="jump_list", mode="jumpoint")
        if any(item["id"] == jumpoint_id and item["online"] for item in answer["result"]["items"]):
            return
        time.sleep(0.3)
    raise AssertionError("the Jumpoint did not come online")


def start(rep: Rep, kind: str, jumpoint_id: int, server: SshServer) -> str:
    answer = rep.request(
        type=kind, jumpoint=jumpoint_id, host=server.host, port=server.port, username=USERNAME, password=PASSWORD
    )
    assert answer["ok"], answer
    lsid: str = answer["result"]["lsid"]
    rep.lsid = lsid
    return lsid


def test_shell_jump_and_push_through_an_installed_jumpoint(
    appliance: RunningAppliance, personas: Personas, jumpoint: tuple[int, Path], server: SshServer
) -> None:
    jumpoint_id, folder = jumpoint
    rep = Rep(appliance, personas)
    online(rep, jumpoint_id)

    wrong = rep.request(
        type="shell_jump", jumpoint=jumpoint_id, host=server.host, port=server.port, username=USERNAME, password="no"
    )
    assert wrong["ok"] is False
    assert wrong["error"].endswith(f"authentication failed for {USERNAME} at {server.host}:{server.port}"), wrong

    begun = time.perf_counter()
    lsid = start(rep, "shell_jump", jumpoint_id, server)
    answered = time.perf_counter()
    state = rep.computer(lambda s: s["connected"])
    assert state["allowed"] == ["shell"] and state["computer"]["hostname"] == server.host
    shell = open_shell(rep)
    rep.console.output_of(shell, until=b"$ ", timeout=20)
    prompt = time.perf_counter()
    print(f"\nShell Jump: answered in {(answered - begun) * 1000:.0f} ms, prompt in {(prompt - begun) * 1000:.0f} ms")
    typed(rep, shell, "echo through-the-jumpoint-$((6*7))\r")
    assert b"through-the-jumpoint-42" in rep.console.output_of(shell, until=b"through-the-jumpoint-42", timeout=20)
    typed(rep, shell, "exit\r")
    assert rep.console.until("shell_exit", timeout=20)["code"] == 0
    assert (folder / "known_hosts").read_text().startswith(f"[{server.host}]:{server.port} ssh-ed25519 ")
    rep.console.send({"type": "end", "ref": "end1", "lsid": lsid})
    assert rep.console.ack("end1")["ok"]

    begun = time.perf_counter()
    pushed = start(rep, "push_start", jumpoint_id, server)
    answered = time.perf_counter()
    try:
        state = rep.computer(lambda s: s["connected"], timeout=60)
        print(f"push: answered in {answered - begun:.1f} s, the client joined in {time.perf_counter() - begun:.1f} s")
    except TimeoutError:
        logs = [p.read_text()[-2000:] for p in (server.home / ".cache" / "lifeline").glob("*.log")]
        raise AssertionError(f"the pushed client did not join: {logs}") from None
    assert state["computer"]["hostname"] == socket.gethostname()
    assert processes_under(server.home), "the pushed client is not running on the host"
    rep.close()

    appliance.cli(
        "user", "add", "jp_reporter", "--password", "jp-reporter-pw", "--reporting-api",
        "--view-reports", "all_sessions", "--view-recordings",
    )  # fmt: skip
    auth = {"username": "jp_reporter", "password": "jp-reporter-pw"}
    with appliance.client() as http:
        reporting = ReportingApi(http)
        cast = reporting.raw("CommandShellRecording", auth, ns=True, lsid=lsid, instance=0)
        assert cast.status_code == 200 and b"through-the-jumpoint-42" in cast.content
        for session_lsid in (lsid, pushed):
            (session,) = children(reporting.call("SupportSession", auth, lsid=session_lsid), "session")
            element = child(session, "jumpoint")
            assert (element.text, element.get("id")) == ("Lab Jumpoint", str(jumpoint_id))
            assert session.find(f"{{{NS_LATER}}}end_time") is not None
    assert PASSWORD not in appliance.log_tail(10**7)
