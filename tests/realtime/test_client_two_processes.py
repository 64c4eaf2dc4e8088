"""The Lifeline client on one appliance process and the rep's console on another (PostgreSQL
and Redis shared): requests reach the client and answers come back, shell output arrives
whole and is recorded once even when the client moves to the other process mid-shell, and
a newer client socket on one process replaces the older on the other. Runs when
DATABASE_URL and REDIS_URL point at real servers (as CI does)."""

from __future__ import annotations

import hashlib
import os

from tests.realtime.test_client_socket import acked, recording
from tests.support.appliance import RunningAppliance, needs_two_processes
from tests.support.client_socket import ProgramSocket, ShellConsole
from tests.support.personas import Personas
from tests.support.sockets import CustomerClient, sign_in, start_by_issue

pytestmark = needs_two_processes


def test_a_console_on_one_process_works_the_client_on_the_other(
    pair: tuple[RunningAppliance, RunningAppliance], people: Personas
) -> None:
    first, second = pair
    cookie = sign_in(first, "rep_a", people.rep_a.password)
    alice = ShellConsole(first, cookie)
    token = start_by_issue(second, "Pat Across", id=str(people.issue_started))
    customer = CustomerClient(second, token=token)
    lsid = customer.welcome["session"]["lsid"]
    alice.send({"type": "take", "ref": "take", "lsid": lsid})
    assert alice.ack("take")["ok"]

    client = ProgramSocket(second, token, allowed=["shell", "files"], flag=True)
    state = alice.until("computer")
    while state["allowed"] != ["shell", "files"]:
        state = alice.until("computer")
    assert state["computer"]["hostname"] == "tess-laptop"

    alice.send({"type": "shell_open", "ref": "open", "lsid": lsid, "cols": 80, "rows": 24})
    opened = client.until("open_shell")
    client.send({"type": "done", "request": opened["request"]})
    assert alice.ack("open")["result"] == {"shell": opened["shell"]}
    shell = opened["shell"]
    expected = b""
    for sequence in range(1, 201):  # 200 frames of 4 KiB: every byte arrives, in order
        payload = b"%05d" % sequence + bytes([65 + sequence % 26]) * 4090 + b"\n"
        client.output(shell, sequence, payload)
        expected += payload
    acked(client, shell, 200)
    seen = alice.output_of(shell, until=expected[-4096:])
    assert seen == expected
    alice.send({"type": "shell_input", "lsid": lsid, "shell": shell, "data": "whoami\r"})
    assert client.until("shell_input")["data"] == "whoami\r"
    client.output(shell, 201, b"tess\r\n")
    client.close()

    # The client comes back through the other process and takes the shell along.
    moved = ProgramSocket(first, token, allowed=["shell", "files"], flag=True)
    assert moved.welcome["shells"][str(shell)] in (200, 201)
    moved.output(shell, 201, b"tess\r\n")
    moved.output(shell, 202, b"$ ")
    acked(moved, shell, 202)
    assert alice.output_of(shell, until=b"tess\r\n$ ") == expected + b"tess\r\n$ "

    # A newer socket on the other process replaces it.
    newer = ProgramSocket(second, token, allowed=["shell", "files"], flag=True)
    assert newer.welcome["shells"][str(shell)] == 202
    assert moved.close_code() == 4409

    # A download from the customer's computer, its bytes sent to either process.
    alice.send({"type": "file_get", "ref": "get", "lsid": lsid, "path": "/home/pat/notes.txt"})
    asked = newer.until("send_file")
    assert alice.ack("get")["ok"]
    data = os.urandom(300_000)
    with first.client() as http:
        response = http.put(
            f"/client/transfers/{asked['transfer']}",
            content=data,
            headers={"Authorization": f"Bearer {token}", "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
        )
        assert response.status_code == 200, response.text
        file_id = response.json()["file_id"]
        downloaded = http.get(f"/console/files/{file_id}", headers={"Cookie": cookie})
    assert hashlib.sha256(downloaded.content).digest() == hashlib.sha256(data).digest()

    newer.send({"type": "shell_exit", "shell": shell, "code": 0})
    alice.until("shell_exit")
    events = recording(second, lsid, 0)
    assert "".join(d for c, d in events if c == "o").encode() == expected + b"tess\r\n$ "
    newer.close()
    alice.send({"type": "end", "ref": "end", "lsid": lsid})
    assert alice.ack("end")["ok"]
    alice.close()
    customer.close()
