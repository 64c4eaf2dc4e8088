"""Report readers that stop reading: they cannot hold the report slots (issue 12, item 3).

Each stalled reader is a real TLS connection that asks for a large SupportSession, reads
the first bytes and then nothing, with a small receive buffer, so the appliance's producer
fills its window and waits on it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.support.activity import SessionDriver
from tests.support.appliance import RunningAppliance, eventually, running_appliance
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas, User
from tests.support.reporting import Reporters, ReportingApi, children

STALL_SECONDS = 8
ALL_TIME = {"start_date": "2000-01-01", "duration": "0"}
CHAT_LINE = "The printer log says: " + "paper jam in tray two; " * 360  # about 8 KB


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    env = {"LIFELINE_STALL_TIMEOUT": str(STALL_SECONDS)}
    with running_appliance(tmp_path_factory.mktemp("appliance"), env=env) as running:
        yield running


@pytest.fixture(scope="module")
def big_report(appliance: RunningAppliance, personas: Personas, reporters: Reporters, node: ConsoleNode) -> str:
    """Team A's sessions: 200 of about 80 KB each, so that their SupportSession (16 MB, in
    chunks of 1 MB) is far more than a report's window and the socket buffers together."""
    rep = node.log_in("rep_a")
    for _ in range(200):
        driver = SessionDriver(node, node.start_session(f"team:{personas.team_a}"), appliance.data_dir).take(rep)
        for n in range(10):
            driver.chat(f"{n} {CHAT_LINE}", by=rep if n % 2 else None)
        driver.end(by=rep)
    return f"team:{personas.team_a}"


def reporter(appliance: RunningAppliance, name: str) -> User:
    password = f"{name}-password"
    record = appliance.cli_json(
        "user", "add", name, "--password", password, "--reporting-api", "--view-reports", "all_sessions"
    )
    return User(name, password, record["id"])


@contextlib.contextmanager
def stalled_readers(appliance: RunningAppliance, who: list[User]) -> Iterator[list[ssl.SSLSocket]]:
    """Each of `who` asks for every session's report, reads its first bytes, and stops reading."""
    context = ssl.create_default_context(cafile=str(appliance.cert_path))
    context.check_hostname = False
    readers: list[ssl.SSLSocket] = []
    try:
        for user in who:
            raw = socket.socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            raw.connect(("127.0.0.1", appliance.https_port))
            reader = context.wrap_socket(raw)
            readers.append(reader)
            query = urlencode({**user.params, "generate_report": "SupportSession", **ALL_TIME})
            reader.sendall(f"GET /api/reporting?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        for reader in readers:
            reader.settimeout(30)
            assert reader.recv(1024).startswith(b"HTTP/1.1 200")
        time.sleep(1)  # their producers fill the window and the buffers, then wait
        yield readers
    finally:
        for reader in readers:
            reader.close()


def listing_seconds(reporting: ReportingApi, user: User) -> float:
    started = time.monotonic()
    root = reporting.call("SupportSessionListing", user.params, **ALL_TIME)
    assert children(root, "session_summary")
    return time.monotonic() - started


def test_one_callers_stalled_readers_leave_the_other_slots_free(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, big_report: str
) -> None:
    with stalled_readers(appliance, [reporters.everything] * 8):
        # Well inside the stall timeout: nothing was freed by it yet.
        assert listing_seconds(reporting, reporters.no_recordings) < STALL_SECONDS / 2


def test_stalled_readers_are_cut_off_and_free_their_slots(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, big_report: str
) -> None:
    callers = [reporter(appliance, f"stalling{n}") for n in range(4)]
    with stalled_readers(appliance, callers * 2) as readers:
        ports = {reader.getsockname()[1] for reader in readers}
        assert held_by_appliance(appliance, ports) == 8
        seconds = listing_seconds(reporting, reporters.no_recordings)
        assert seconds < STALL_SECONDS + 10
        eventually(lambda: _cut_off_logged(appliance), timeout=10)
        # And the appliance let go of their connections, though they never read what was sent.
        eventually(lambda: _none(held_by_appliance(appliance, ports)), timeout=STALL_SECONDS + 10)


def held_by_appliance(appliance: RunningAppliance, client_ports: set[int]) -> int:
    """The appliance's ends of connections from these ports that a process still holds
    (/proc/net/tcp; a socket the process closed, left to the kernel to finish, has inode 0)."""
    held = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, remote_port, inode = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16), fields[9]
        held += local_port == appliance.https_port and remote_port in client_ports and inode != "0"
    return held


def _none(count: int) -> None:
    assert count == 0


def _cut_off_logged(appliance: RunningAppliance) -> None:
    assert f"nothing read for {STALL_SECONDS} s from 127.0.0.1" in appliance.log_tail()
