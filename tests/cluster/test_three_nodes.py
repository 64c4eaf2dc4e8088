"""Three nodes behind HAProxy are one appliance: a rep on one node, a customer and the real
Lifeline client on the others chat, transfer, open a shell and send a file; the Command API
answers alike on every node. kill -9 of a node while reps and customers chat through HAProxy:
they are back through the others within 5 s and nothing acknowledged is lost; restarted,
the node takes customers again.
Runs when DATABASE_URL and REDIS_URL point at real servers and haproxy is installed (as CI)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from lxml import etree
from websockets.exceptions import ConnectionClosed

from tests.client.scripted import CLIENT
from tests.cluster.conftest import ThreeNodes
from tests.support.appliance import RunningAppliance, eventually
from tests.support.client_socket import ShellConsole
from tests.support.cluster import needs_cluster
from tests.support.command import CommandApi
from tests.support.personas import Personas
from tests.support.reporting import ReportingApi
from tests.support.sockets import CustomerClient, sign_in, start_by_issue

pytestmark = [needs_cluster, pytest.mark.slow]

T = TypeVar("T")
RECONNECT_LIMIT = 5.0  # seconds, from a node's death to the socket being welcomed again


def command_answer(entry: RunningAppliance, people: Personas, action: str) -> bytes:
    """The Command API's answer (checked against its XSD), with the moment it was made left out."""
    with entry.client() as client:
        root = CommandApi(client).call(action, people.admin.params)
    for stamped in root.iter():
        stamped.attrib.pop("timestamp", "")
    return etree.tostring(root, method="c14n")


def same_answer_everywhere(three: ThreeNodes, action: str) -> bytes:
    def agree() -> bytes:
        answers = {command_answer(entry, three.people, action) for entry in (*three.nodes, three.front)}
        assert len(answers) == 1, "\n".join(answer.decode() for answer in answers)
        return answers.pop()

    # A change on one node reaches the others through Redis (or the half-second stamp poll).
    return eventually(agree, timeout=3)


def chat_bodies(entry: RunningAppliance, people: Personas, lsid: str) -> list[str]:
    """Chat lines of the session as the Reporting API has them, in order."""
    with entry.client() as client:
        root = ReportingApi(client).call("SupportSession", people.admin.params, lsid=lsid)
    return [
        "".join(event.findtext("{*}body") or "")
        for event in root.iter("{*}event")
        if event.get("event_type") == "Chat Message"
    ]


class Rep:
    """A rep's console at the protocol level, with numbered requests."""

    def __init__(self, entry: RunningAppliance, username: str, password: str) -> None:
        self.username = username
        self.cookie = sign_in(entry, username, password)
        self.console = ShellConsole(entry, self.cookie)
        self.refs = 0

    def request(self, **fields: Any) -> dict[str, Any]:
        # A chat's ref is its id for resending in its session: each rep's are their own.
        self.refs += 1
        ref = f"{self.username}-{self.refs}"
        self.console.send({"ref": ref, **fields})
        return self.console.ack(ref)

    def waiting(self, lsid: str) -> None:
        """Until the session shows waiting in one of this rep's queues."""
        while True:
            state = self.console.until("session", timeout=15)["session"]
            if state["lsid"] == lsid and state["status"] == "waiting":
                return


def test_any_node_serves_any_request(three: ThreeNodes) -> None:
    first, second, third = three.nodes
    people = three.people
    alice = Rep(first, "rep_a", people.rep_a.password)
    bob = Rep(third, "rep_b", people.rep_b.password)
    reps = same_answer_everywhere(three, "get_logged_in_reps")
    assert f'id="{people.rep_a.id}"'.encode() in reps and f'id="{people.rep_b.id}"'.encode() in reps

    # The customer arrives on the second node and waits in Team A's queue, which Alice sees.
    token = start_by_issue(second, "Pat Cluster", id=str(people.issue_started))
    customer = CustomerClient(second, token=token)
    lsid = customer.welcome["session"]["lsid"]
    alice.waiting(lsid)
    assert alice.request(type="take", lsid=lsid)["ok"]
    assert customer.until("state")["session"]["reps"] == ["Alice Rep"]
    assert alice.request(type="chat", lsid=lsid, body="Hello from the first node")["ok"]
    assert customer.event("Chat Message")["event"]["body"] == "Hello from the first node"
    customer.send({"type": "chat", "ref": "c1", "body": "Hello from the second"})
    assert customer.ack("c1")["ok"]
    heard = alice.console.event("Chat Message")  # her own line may come back first
    while heard["event"]["body"] != "Hello from the second":
        heard = alice.console.event("Chat Message")

    # Transferred to Bob, whose console is on the third node.
    assert alice.request(type="transfer", lsid=lsid, queue=f"rep:{people.rep_b.id}")["ok"]
    bob.waiting(lsid)
    assert bob.request(type="take", lsid=lsid)["ok"]
    state = customer.until("state")["session"]
    while state["reps"] != ["Bob Rep"]:
        state = customer.until("state")["session"]
    assert bob.request(type="chat", lsid=lsid, body="Bob here, from the third node")["ok"]
    heard = customer.event("Chat Message")  # their own line may come back first
    while heard["event"]["body"] != "Bob here, from the third node":
        heard = customer.event("Chat Message")

    # The real client program joins through the second node; Bob's shell runs across nodes.
    pin = str(second.cert_path)
    client = subprocess.Popen(
        [str(CLIENT), "attach", f"{second.https}/chat/{token}", "--no-chat", "--allow", "shell", "--pin", pin],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        computer = bob.console.until("computer", timeout=30)
        while not computer["connected"]:
            computer = bob.console.until("computer", timeout=30)
        opened = bob.request(type="shell_open", lsid=lsid, cols=80, rows=24)
        assert opened["ok"], opened
        shell = int(opened["result"]["shell"])
        bob.console.send(
            {"ref": "k", "lsid": lsid, "type": "shell_input", "shell": shell, "data": "echo node-$((6*7))\r"}
        )
        assert b"node-42" in bob.console.output_of(shell, until=b"node-42", timeout=20)

        # The connected-client calls agree on every node while the client is connected.
        listed = same_answer_everywhere(three, "get_connected_client_list")
        assert b"connected_client_list" in listed
        same_answer_everywhere(three, "get_connected_clients")

        # A file the customer sends through the second node: Bob gets it through the third,
        # the customer again through the first (one file store in the shared data directory).
        data = os.urandom(300_000)
        with second.client() as https:
            sent = https.post(f"/chat/{token}/files", files={"file": ("printer.log", data)})
        assert sent.status_code == 200, sent.text
        file_id = sent.json()["file_id"]
        with third.client() as https:
            got = https.get(f"/console/files/{file_id}", headers={"Cookie": bob.cookie})
        assert got.status_code == 200 and hashlib.sha256(got.content).digest() == hashlib.sha256(data).digest()
        with first.client() as https:
            assert https.get(f"/chat/{token}/files/{file_id}").content == data
    finally:
        client.terminate()
        _, err = client.communicate(timeout=15)
    assert b"Traceback" not in err

    assert bob.request(type="end", lsid=lsid)["ok"]
    customer.close()
    for rep in (alice, bob):
        rep.console.send({"type": "logout"})
        rep.console.close()
    assert chat_bodies(three.front, people, lsid) == [
        "Hello from the first node",
        "Hello from the second",
        "Bob here, from the third node",
    ]
    eventually(lambda: _not_listed(three, people.rep_a.id))


def _restart(three: ThreeNodes, index: int, outcome: list[BaseException | None]) -> None:
    try:
        three.cluster.restart(index)
        outcome.append(None)
    except BaseException as error:  # the test thread reports it
        outcome.append(error)


def _no_connections(three: ThreeNodes) -> None:
    assert sum(three.cluster.connections().values()) == 0


def _not_listed(three: ThreeNodes, rep_id: int) -> None:
    assert f'id="{rep_id}"'.encode() not in same_answer_everywhere(three, "get_logged_in_reps")


class Talker:
    """A customer chatting through HAProxy, who reconnects (through HAProxy) when the socket drops."""

    def __init__(self, front: RunningAppliance, token: str) -> None:
        self.front = front
        self.token = token
        self.socket = CustomerClient(front, token=token)
        self.lsid: str = self.socket.welcome["session"]["lsid"]
        self.said: list[str] = []  # lines the appliance acknowledged
        self.lines = 0

    def say(self) -> bool:
        """One chat line; False when the socket is gone (the line may be lost: not acknowledged)."""
        self.lines += 1
        body = f"{self.lsid} line {self.lines}"
        try:
            self.socket.send({"type": "chat", "ref": f"l{self.lines}", "body": body})
            if self.socket.ack(f"l{self.lines}")["ok"]:
                self.said.append(body)
            return True
        except (ConnectionClosed, TimeoutError):
            return False

    def reconnect(self) -> None:
        self.socket.close()
        self.socket = CustomerClient(self.front, token=self.token)
        assert self.socket.welcome["type"] == "welcome", self.socket.welcome


def placed(three: ThreeNodes, open_socket: Callable[[], T], *, timeout: float = 3) -> tuple[T, int]:
    """Open one connection through HAProxy; which node it went to (the one whose count of
    connections HAProxy holds grew by it)."""
    before = three.cluster.connections()
    opened = open_socket()

    def node() -> int:
        after = three.cluster.connections()
        grown = [index for index in after if after[index] > before[index]]
        assert len(grown) == 1 and sum(after.values()) == sum(before.values()) + 1, (before, after)
        return grown[0]

    return opened, eventually(node, timeout=timeout)


def steer_to(three: ThreeNodes, node: int) -> list[socket.socket]:
    """Idle TCP connections through HAProxy, held, until roundrobin's next turn is `node`
    (it goes round the nodes in order): the next connection lands there."""
    held: list[socket.socket] = []
    while True:
        probe, on = placed(three, lambda: socket.create_connection(("127.0.0.1", three.cluster.port)))
        held.append(probe)
        if (on + 1) % len(three.cluster.nodes) == node:
            return held


def computer_connected(console: ShellConsole, lsid: str, *, timeout: float = 30) -> None:
    """Until the console has the session's client connected (a take's state may have been
    read while waiting for its ack: ShellConsole keeps the latest)."""
    latest = getattr(console, "computers", {}).get(lsid)
    if latest is not None and latest["connected"]:
        return
    while True:
        state = console.until("computer", timeout=timeout)
        if state["lsid"] == lsid and state["connected"]:
            return


def shell_echo(console: ShellConsole, lsid: str, *, timeout: float = 10) -> bytes:
    """A shell on the session's computer that says shell-42, asked again while the client
    finds its way back. Every try is answered within seconds: a request sent to the dead
    node's socket fails as soon as the client speaks through a new one ("reconnected ...
    ask again"), not after the 30 s a silent computer is given."""
    deadline = time.monotonic() + timeout
    for attempt in range(100):
        ref = f"shell-{attempt}"
        console.send({"type": "shell_open", "ref": ref, "lsid": lsid, "cols": 80, "rows": 24})
        opened = answer(console, ref, timeout=timeout)
        if opened["ok"]:
            shell = int(opened["result"]["shell"])
            console.send(
                {"type": "shell_input", "ref": "k", "lsid": lsid, "shell": shell, "data": "echo shell-$((6*7))\r"}
            )
            return console.output_of(shell, until=b"shell-42", timeout=timeout)
        print(f"shell_open try {attempt}: {opened.get('error')}")
        assert time.monotonic() < deadline, f"no shell on the customer's computer: {opened}"
        time.sleep(0.1)
    raise AssertionError("no shell")


def answer(console: ShellConsole, ref: str, *, timeout: float) -> dict[str, Any]:
    """The ack (or error) of one request, within `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        message = console.until("ack", "error", timeout=max(end - time.monotonic(), 0.01))
        if message.get("ref") == ref:
            return message


def test_a_node_killed_mid_chat_costs_a_reconnect_and_nothing_acknowledged(three: ThreeNodes) -> None:
    front, people = three.front, three.people
    cookie = sign_in(front, "rep_a", people.rep_a.password)
    tokens = [start_by_issue(front, f"Customer {n}", id=str(people.issue_started)) for n in range(6)]
    eventually(lambda: _no_connections(three), timeout=5)  # the pages' HTTP connections closed
    # The first customer's real client program; the node it lands on is the one to die,
    # and Alice's console is steered there too.
    pin = str(three.cluster.cert_path)
    client, victim = placed(
        three,
        lambda: subprocess.Popen(
            [
                str(CLIENT),
                "attach",
                f"{three.cluster.url}/chat/{tokens[0]}",
                "--no-chat",
                "--allow",
                "shell",
                "--pin",
                pin,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        ),
        timeout=20,
    )
    held = steer_to(three, victim)
    alice, alice_on = placed(three, lambda: ShellConsole(front, cookie))
    talkers: list[Talker] = []
    talker_on: list[int] = []
    for n, token in enumerate(tokens):
        talker, node = placed(three, lambda token=token: Talker(front, token))  # type: ignore[misc]
        alice.send({"type": "take", "ref": f"t{n}", "lsid": talker.lsid})
        assert alice.ack(f"t{n}")["ok"]
        talkers.append(talker)
        talker_on.append(node)
    try:
        assert alice_on == victim
        computer_connected(alice, talkers[0].lsid)
        chat_through_a_node_death(three, alice, alice_on, talkers, talker_on, cookie)
    finally:
        for probe in held:
            probe.close()
        client.terminate()
        _, err = client.communicate(timeout=15)
    assert b"Traceback" not in err


def chat_through_a_node_death(
    three: ThreeNodes, alice: ShellConsole, alice_on: int, talkers: list[Talker], talker_on: list[int], cookie: str
) -> None:
    front, people = three.front, three.people
    rep_said: dict[str, list[str]] = {talker.lsid: [] for talker in talkers}

    def rep_says(lsid: str, body: str) -> None:
        alice.send({"type": "chat", "ref": body, "lsid": lsid, "body": body})
        if alice.ack(body)["ok"]:
            rep_said[lsid].append(body)

    for talker in talkers:
        assert talker.say()
        rep_says(talker.lsid, f"Alice to {talker.lsid} before")

    # Alice's node dies while she and her customers chat; roundrobin put customers there too.
    assert talker_on.count(alice_on) >= 1, (alice_on, talker_on)
    died = three.cluster.kill(alice_on)
    back: list[float] = []
    for talker in talkers:
        while not talker.say():
            talker.reconnect()
            back.append(time.monotonic() - died)
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        rep_says(talkers[0].lsid, "Alice after the kill")
    assert not rep_said[talkers[0].lsid][1:], "Alice's socket outlived her node"
    alice.close()
    alice = ShellConsole(front, cookie, resume_token=alice.welcome["resume_token"])
    assert alice.welcome["resumed"] is True
    console_back = time.monotonic() - died
    rep_says(talkers[0].lsid, "Alice after the kill")
    # The client program is back too: a shell opened now runs on the customer's computer
    # (the computer's state alone could be the dead node's, not yet swept).
    computer_connected(alice, talkers[0].lsid)
    echoed = shell_echo(alice, talkers[0].lsid)
    client_back = time.monotonic() - died
    assert b"shell-42" in echoed
    assert len(back) == talker_on.count(alice_on), (back, alice_on, talker_on)
    print(
        f"\nkill -9 of a node: its console back through HAProxy in {console_back:.2f} s, "
        f"its {len(back)} customers in {max(back):.2f} s at worst, its client seen again at {client_back:.2f} s"
    )
    assert max(*back, console_back, client_back) < RECONNECT_LIMIT
    # The dead node comes back meanwhile (kill -9 of a process, not of the machine).
    restarted: list[BaseException | None] = []
    restart = threading.Thread(target=_restart, args=(three, alice_on, restarted))
    restart.start()

    # The sessions carry on, both ways, from wherever each socket landed.
    for talker in talkers:
        assert talker.say()
        rep_says(talker.lsid, f"Alice to {talker.lsid} after")
        heard = talker.socket.event("Chat Message")
        while heard["event"]["body"] != f"Alice to {talker.lsid} after":
            heard = talker.socket.event("Chat Message")

    # The restarted node is in rotation again, and a customer it takes chats with Alice.
    restart.join(timeout=90)
    assert restarted == [None], restarted
    for _attempt in range(2 * len(three.nodes)):  # roundrobin comes round to it
        newcomer, node = placed(
            three, lambda: Talker(front, start_by_issue(three.nodes[0], "Newcomer", id=str(people.issue_started)))
        )
        if node == alice_on:
            break
        newcomer.socket.close()
    assert node == alice_on, "the restarted node got no connection"
    rep_said[newcomer.lsid] = []
    alice.send({"type": "take", "ref": "t-new", "lsid": newcomer.lsid})
    assert alice.ack("t-new")["ok"]
    assert newcomer.say()
    rep_says(newcomer.lsid, "Alice to the newcomer")
    talkers.append(newcomer)

    # Every acknowledged line is in the Reporting API, in order, whichever node answers.
    for talker in talkers:
        talker.socket.close()
        bodies = chat_bodies(front, people, talker.lsid)
        for said in (talker.said, rep_said[talker.lsid]):
            assert [body for body in bodies if body in said] == said
    alice.close()
