"""A local push end to end: the Jumpoint's handler in its own process logs in to a real SSH
server on loopback ("the host", this machine with its own home folder), copies the client
zipapp the appliance serves there with SFTP and starts it detached for the session; the
client joins and the rep's console sees the computer. A host without python3 is refused
in words."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.test_end_to_end import Rep
from tests.client.test_jumpoint_shell_jump import jumpoint, started
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas
from tests.support.sockets import start_by_issue
from tests.support.ssh_server import PASSWORD, USERNAME, ssh_server

pytestmark = pytest.mark.slow


def processes_under(folder: Path) -> list[int]:
    """The programs started from files in `folder` (the pushed client), by process id."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(folder).encode() in command:
                found.append(int(entry.name))
    return found


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "host-home"
    folder.mkdir()
    yield folder
    for pid in processes_under(folder):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def push_message(appliance: RunningAppliance, token: str, lsid: str, port: int) -> dict[str, object]:
    return {
        "type": "push_client",
        "request": "p1",
        "lsid": lsid,
        "chat_url": f"https://127.0.0.1:{appliance.https_port}/chat/{token}",
        "host": "127.0.0.1",
        "port": port,
        "username": USERNAME,
        "password": PASSWORD,
        "allowed": ["shell"],
        "rep": "Alice",
    }


def test_push_starts_the_client_on_the_host(
    appliance: RunningAppliance, personas: Personas, home: Path, tmp_path: Path
) -> None:
    rep = Rep(appliance, personas)
    token = start_by_issue(appliance, "Pushed", id=str(personas.issue_started))
    lsid = rep.take_next()
    try:
        with ssh_server(home, path="/usr/bin:/bin") as server:
            process = jumpoint(appliance, tmp_path / "jumpoint", push_message(appliance, token, lsid, server.port))
            answer = started(process)
            _, err = process.communicate(timeout=30)
            assert answer == {"type": "started", "request": "p1", "error": ""}, err
            assert process.returncode == 0 and "Traceback" not in err and PASSWORD not in err
        state = rep.computer(lambda s: s["connected"], timeout=60)
        assert state["computer"]["hostname"] == socket.gethostname()
        assert state["allowed"] == ["shell"]
        folder = home / ".cache" / "lifeline"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        pushed = [p.name for p in folder.iterdir()]
        assert any(name.endswith(".pyz") for name in pushed) and any(name.endswith(".pem") for name in pushed)
        assert processes_under(home), "the pushed client is not running"
    finally:
        rep.close()


def test_a_host_without_python_is_refused_in_words(
    appliance: RunningAppliance, personas: Personas, home: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    for tool in ("uname", "sh"):
        os.symlink(f"/bin/{tool}" if Path(f"/bin/{tool}").exists() else f"/usr/bin/{tool}", bare / tool)
    token = start_by_issue(appliance, "No Python", id=str(personas.issue_started))
    with ssh_server(home, path=str(bare)) as server:
        process = jumpoint(appliance, tmp_path / "jumpoint", push_message(appliance, token, "x" * 8, server.port))
        answer = started(process)
        process.communicate(timeout=30)
    assert answer["error"] == "127.0.0.1 has no python3: the Lifeline client needs Python 3.11, 3.12, 3.13, 3.14"
