"""A Shell Jump end to end, with the Jumpoint's handler in its own process against the real
appliance and a real SSH server on loopback: the rep's command shell is an SSH session to
the host (typed, seen, its exit code), recorded as any command shell (CommandShellRecording
through the Reporting API), and everything but the shell is refused in words."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.test_end_to_end import Rep, open_shell, stop, typed
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas
from tests.support.reporting import ReportingApi
from tests.support.sockets import start_by_issue
from tests.support.ssh_server import PASSWORD, USERNAME, SshServer, ssh_server

pytestmark = pytest.mark.slow
PROCESS = Path(__file__).with_name("jumpoint_process.py")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SshServer]:
    home = tmp_path / "home"
    home.mkdir()
    with ssh_server(home) as running:
        yield running


def jumpoint(appliance: RunningAppliance, folder: Path, message: dict[str, object]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(PROCESS),
            f"https://127.0.0.1:{appliance.https_port}",
            str(appliance.cert_path),
            str(folder),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps(message) + "\n")
    process.stdin.flush()
    return process


def started(process: subprocess.Popen[str]) -> dict[str, object]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else ""
    answer: dict[str, object] = json.loads(line)
    return answer


def test_a_shell_jump_is_an_ssh_shell_recorded(
    appliance: RunningAppliance, personas: Personas, server: SshServer, tmp_path: Path
) -> None:
    rep = Rep(appliance, personas)
    token = start_by_issue(appliance, "Shell Jump", id=str(personas.issue_started))
    lsid = rep.take_next()
    message = {
        "type": "shell_jump",
        "request": "j1",
        "lsid": lsid,
        "token": token,
        "host": server.host,
        "port": server.port,
        "username": USERNAME,
        "password": PASSWORD,
        "rep": "Alice",
    }
    process = jumpoint(appliance, tmp_path / "jumpoint", message)
    try:
        assert started(process) == {"type": "started", "request": "j1", "error": ""}
        state = rep.computer(lambda s: s["connected"])
        assert state["allowed"] == ["shell"]
        assert state["computer"]["hostname"] == server.host and state["computer"]["username"] == USERNAME
        assert state["computer"]["platform"] == "linux"
        refused = rep.request(type="computer_list", path=str(tmp_path))
        assert refused["ok"] is False  # the appliance knows only the shell is allowed
        # Asked, the Jumpoint answers no at once: nobody at the host could answer.
        assert rep.request(type="computer_ask", capability="files")["ok"]
        rep.computer(lambda s: s["asked"] == ["files"], timeout=20)
        assert rep.computer(lambda s: s["asked"] == [], timeout=20)["allowed"] == ["shell"]

        shell = open_shell(rep)
        assert b"is trusted from now on" in rep.console.output_of(shell, until=b"trusted from now on", timeout=20)
        typed(rep, shell, "echo jumped-$((40+2))\r")
        assert b"jumped-42" in rep.console.output_of(shell, until=b"jumped-42", timeout=20)
        typed(rep, shell, "exit 5\r")
        ended = rep.console.until("shell_exit", timeout=20)
        assert (ended["shell"], ended["code"]) == (shell, 5)
    finally:
        rep.close()  # ends the session: the Jumpoint's process ends with it
        out, err = stop(process)
    assert "Traceback" not in err, err
    assert PASSWORD not in out + err

    record = appliance.cli_json(
        "user", "add", "jump_reporter", "--password", "jump-reporter-pw", "--reporting-api",
        "--view-reports", "all_sessions", "--view-recordings",
    )  # fmt: skip
    assert record["id"]
    with appliance.client() as http:
        reporting = ReportingApi(http)
        auth = {"username": "jump_reporter", "password": "jump-reporter-pw"}
        cast = reporting.raw("CommandShellRecording", auth, ns=True, lsid=lsid, instance=0)
        assert cast.status_code == 200, cast.text
        assert b"jumped-42" in cast.content
        header = json.loads(cast.content.decode().splitlines()[0])
        assert (header["width"], header["height"]) == (100, 30)
