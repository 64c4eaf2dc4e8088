"""The real client program, as its own process, against the real appliance process: a rep's
console (at the protocol's level) takes the session the client started, gets the computer,
the automatic system information, a shell that echoes, recorded; the customer's browser page
allows what the rep asks; files go both ways equal by hash; a restart of the appliance mid-
shell is carried through. Also the figures the brief asks for: the client's memory at rest
and the keystroke echo through the appliance."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client.scripted import CLIENT
from tests.support.appliance import RunningAppliance
from tests.support.client_socket import ShellConsole, receive
from tests.support.personas import Personas
from tests.support.sockets import CustomerClient, sign_in, start_by_issue

pytestmark = pytest.mark.slow


class Rep:
    """Alice's console in the session the client started."""

    def __init__(self, appliance: RunningAppliance, personas: Personas, **hello: Any) -> None:
        self.appliance = appliance
        self.cookie = sign_in(appliance, "rep_a", personas.rep_a.password)
        self.console = ShellConsole(appliance, self.cookie, **hello)
        self.lsid = ""
        self._refs = 0

    def take(self, lsid: str) -> None:
        self.lsid = lsid
        assert self.request(type="take")["ok"]

    def take_next(self) -> str:
        """The session that just started in one of Alice's queues."""
        while True:
            changed = self.console.until("session", timeout=30)["session"]
            if changed.get("status") == "waiting":
                self.take(changed["lsid"])
                return self.lsid

    def request(self, **fields: Any) -> dict[str, Any]:
        self._refs += 1
        ref = f"r{self._refs}"
        self.console.send({"ref": ref, "lsid": self.lsid, **fields})
        return self.console.ack(ref)

    def computer(self, check: Any, timeout: float = 30) -> dict[str, Any]:
        """The computer's state once it passes `check`: the latest one the console read (a
        take's follow sends it before the take's ack, which the wait for the ack reads past),
        else the next ones."""
        latest = getattr(self.console, "computers", {}).get(self.lsid)
        if latest is not None and check(latest):
            return latest
        end = time.monotonic() + timeout
        while True:
            state = self.console.until("computer", timeout=max(end - time.monotonic(), 0.1))
            if check(state):
                return state

    def close(self) -> None:
        self.console.send({"type": "end", "ref": "end", "lsid": self.lsid})
        self.console.ack("end")
        self.console.send({"type": "logout"})
        self.console.close()


@pytest.fixture
def rep(appliance: RunningAppliance, personas: Personas) -> Iterator[Rep]:
    alice = Rep(appliance, personas)
    yield alice
    alice.close()


def client(appliance: RunningAppliance, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CLIENT), *args, "--pin", str(appliance.cert_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        process.terminate()
    try:
        return process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_shell(rep: Rep) -> int:
    opened = rep.request(type="shell_open", cols=100, rows=30)
    assert opened["ok"], opened
    return int(opened["result"]["shell"])


def typed(rep: Rep, shell: int, keys: str) -> None:
    rep.console.send(
        {"ref": f"k{time.monotonic_ns()}", "lsid": rep.lsid, "type": "shell_input", "shell": shell, "data": keys}
    )


def more_output(rep: Rep, shell: int, done: Callable[[bytes], bool], timeout: float = 10) -> None:
    """Read the console's socket until the shell's output so far satisfies `done`."""
    end = time.monotonic() + timeout
    while not done(rep.console.output_of(shell, until=b"")):
        raw = receive(rep.console.socket, max(end - time.monotonic(), 0.01))
        if isinstance(raw, bytes):
            rep.console.frames.append(raw)
        else:
            rep.console.backlog.append(raw)


def test_a_session_from_the_issue_form_with_everything_allowed(
    appliance: RunningAppliance, personas: Personas, rep: Rep
) -> None:
    site = f"https://127.0.0.1:{appliance.https_port}"
    process = client(
        appliance,
        "issue",
        site,
        "--issue",
        str(personas.issue_started),
        "--name",
        "Tess",
        "--allow",
        "all",
        "--no-browser",
    )
    try:
        lsid = rep.take_next()
        state = rep.computer(lambda s: s["connected"] and len(s["allowed"]) == 5)  # all: screen and control too
        assert state["computer"]["hostname"] == socket.gethostname()
        assert state["computer"]["platform"] == "linux"
        info = rep.console.until("system_info", timeout=30)
        assert info["automatic"] is True
        assert [c["id"] for c in info["categories"]] == [
            "overview",
            "network",
            "drives",
            "processes",
            "services",
            "programs",
        ]
        print(f"\nclient RSS at rest: {rss_kib(process.pid)} KiB")

        shell = open_shell(rep)
        typed(rep, shell, "echo lifeline-$((40+2))\r")
        assert b"lifeline-42" in rep.console.output_of(shell, until=b"lifeline-42", timeout=20)
        # Keystroke echo: the rep types one character, the shell's echo comes back.
        delays = []
        for n in range(40):
            mark = chr(ord("a") + n % 26).encode()
            before = rep.console.output_of(shell, until=b"").count(mark)
            start = time.perf_counter()
            typed(rep, shell, mark.decode())
            more_output(rep, shell, lambda seen, mark=mark, before=before: seen.count(mark) > before)
            delays.append((time.perf_counter() - start) * 1000)
        typed(rep, shell, "\x15")  # Ctrl-U: the line typed for the measurement goes
        delays.sort()
        print(f"shell echo rep -> client -> rep: p50 {statistics.median(delays):.1f} ms, max {delays[-1]:.1f} ms")
        print(f"client RSS with a shell: {rss_kib(process.pid)} KiB")

        # Chat from the client's terminal reaches the rep, and the rep's reaches the terminal.
        assert process.stdin is not None
        process.stdin.write("hello from the terminal\n")
        process.stdin.flush()
        said = rep.console.event("Chat Message", timeout=20)
        assert said["event"]["body"] == "hello from the terminal"
        assert rep.request(type="chat", body="hello from Alice")["ok"]

        typed(rep, shell, "exit 7\r")
        ended = rep.console.until("shell_exit", timeout=20)
        assert (ended["shell"], ended["code"]) == (shell, 7)
        assert lsid
    finally:
        out, err = stop(process)
    assert "hello from Alice" in out
    assert "Traceback" not in err


def test_the_browser_page_allows_what_the_rep_asks_and_files_go_both_ways(
    appliance: RunningAppliance, personas: Personas, rep: Rep, tmp_path: Path
) -> None:
    token = start_by_issue(appliance, "Tess", id=str(personas.issue_started))
    page = CustomerClient(appliance, token=token)  # the customer's browser chat page
    rep.take(page.welcome["session"]["lsid"])
    process = client(appliance, "attach", f"https://127.0.0.1:{appliance.https_port}/chat/{token}", "--no-chat")
    try:
        rep.computer(lambda s: s["connected"])
        refused = rep.request(type="computer_list", path=str(tmp_path))
        assert refused["ok"] is False and "has not allowed the file system" in refused["error"]
        assert rep.request(type="computer_ask", capability="files")["ok"]
        view = page.until("computer")
        while not view["asked"]:
            view = page.until("computer")
        page.send({"type": "consent", "ref": "c", "capability": "files", "allowed": True})
        assert page.ack("c")["ok"]
        rep.computer(lambda s: s["allowed"] == ["files"])

        listing = rep.request(type="computer_list", path=str(tmp_path))
        assert listing["ok"], listing

        # From the customer's computer (the rep's File Download), larger than one chunk.
        data = os.urandom(2 * 1024 * 1024 + 99)
        (tmp_path / "report.bin").write_bytes(data)
        assert rep.request(type="file_get", path=str(tmp_path / "report.bin"))["ok"]
        done = transfer_done(rep)
        with appliance.client() as http:
            got = http.get(f"/console/files/{done['file_id']}", headers={"Cookie": rep.cookie})
        assert hashlib.sha256(got.content).digest() == hashlib.sha256(data).digest()

        # To the customer's computer (File Upload), never overwriting what is there.
        (tmp_path / "inbox").mkdir()
        (tmp_path / "inbox" / "setup.exe").write_bytes(b"mine")
        upload = os.urandom(1024 * 1024 + 5)
        file_id = send_to_file_store(appliance, rep, "setup.exe", upload)
        assert rep.request(type="file_put", file_id=file_id, path=str(tmp_path / "inbox"))["ok"]
        assert transfer_done(rep)["state"] == "done"
        assert (tmp_path / "inbox" / "setup (1).exe").read_bytes() == upload
        assert (tmp_path / "inbox" / "setup.exe").read_bytes() == b"mine"

        # Taken back in the browser: the client refuses from then on.
        page.send({"type": "consent", "ref": "c2", "capability": "files", "allowed": False})
        assert page.ack("c2")["ok"]
        rep.computer(lambda s: s["allowed"] == [])
    finally:
        _, err = stop(process)
        page.close()
    assert "Traceback" not in err


def transfer_done(rep: Rep) -> dict[str, Any]:
    while True:
        pushed: dict[str, Any] = rep.console.until("transfer", timeout=60)["transfer"]
        if pushed["state"] != "moving":
            assert pushed["state"] == "done", pushed
            return pushed


def send_to_file_store(appliance: RunningAppliance, rep: Rep, name: str, data: bytes) -> int:
    with appliance.client() as http:
        page = http.get("/console", headers={"Cookie": rep.cookie}).text
        csrf = re.search(r'data-csrf="([^"]+)"', page)
        assert csrf is not None
        sent = http.post(
            f"/console/sessions/{rep.lsid}/files",
            headers={
                "Cookie": rep.cookie,
                "x-csrf-token": csrf.group(1),
                "x-gsnumber": str(rep.console.welcome["gsnumber"]),
            },
            files={"file": (name, data)},
        )
    assert sent.status_code == 200, sent.text
    return int(sent.json()["file_id"])


def test_a_restart_of_the_appliance_mid_shell(appliance: RunningAppliance, personas: Personas) -> None:
    alice = Rep(appliance, personas)
    token = start_by_issue(appliance, "Tess", id=str(personas.issue_started))
    page = CustomerClient(appliance, token=token)
    alice.take(page.welcome["session"]["lsid"])
    process = client(
        appliance, "attach", f"https://127.0.0.1:{appliance.https_port}/chat/{token}", "--no-chat", "--allow", "shell"
    )
    try:
        alice.computer(lambda s: s["connected"])
        shell = open_shell(alice)
        typed(alice, shell, "for i in 1 2 3 4 5 6; do echo tick-$i; sleep 1; done\r")
        before = alice.console.output_of(shell, until=b"tick-1", timeout=20)
        resume = alice.console.welcome["resume_token"]
        appliance.stop()
        appliance.start()
        started = time.monotonic()
        page = CustomerClient(appliance, token=token)  # the browser page comes back too
        lsid = alice.lsid
        alice = Rep(appliance, personas, resume_token=resume)  # the console resumes: still in the session
        assert alice.console.welcome["resumed"] is True
        alice.lsid = lsid
        alice.computer(lambda s: s["connected"] and s["shells"] == [shell])
        print(f"\nclient back {time.monotonic() - started:.1f} s after the appliance restarted")
        alice.console.send({"type": "shell_replay", "ref": "replay", "lsid": alice.lsid, "shell": shell})
        seen = alice.console.output_of(shell, until=b"tick-6", timeout=40)
        ticks = re.findall(rb"tick-(\d)\r\n", before + seen)
        assert sorted(set(ticks)) == [b"1", b"2", b"3", b"4", b"5", b"6"]  # nothing lost in the restart
    finally:
        stop(process)
        page.close()
        alice.close()


def test_a_rep_link_by_the_reps_name(appliance: RunningAppliance, personas: Personas, rep: Rep) -> None:
    """Alice is logged in (her console) and on the public list: her name finds her link."""
    site = f"https://127.0.0.1:{appliance.https_port}"
    process = client(appliance, "rep", site, "alice rep", "--name", "Tess", "--no-browser")
    try:
        rep.take_next()
        assert rep.computer(lambda s: s["connected"])["computer"]["hostname"] == socket.gethostname()
    finally:
        _, err = stop(process)
    assert "Traceback" not in err
