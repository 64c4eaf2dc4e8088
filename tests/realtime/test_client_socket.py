"""The Lifeline client's socket (/ws/client) against the real server, spoken by a scripted
client at the protocol's level: who the customer's computer is, the customer's consent,
system information logged once, shells recorded and relayed exactly once, requests the
customer has not allowed refused, and bad input answered, not fatal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.appliance import RunningAppliance, eventually
from tests.support.client_socket import COMPUTER, ProgramSocket, ShellConsole
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, sign_in, start_by_issue


class Session:
    def __init__(self, appliance: RunningAppliance, personas: Personas) -> None:
        self.appliance = appliance
        self.cookie = sign_in(appliance, "rep_a", personas.rep_a.password)
        self.alice = ShellConsole(appliance, self.cookie)
        self.token = start_by_issue(appliance, "Tess", id=str(personas.issue_started))
        self.customer = CustomerClient(appliance, token=self.token)
        self.lsid: str = self.customer.welcome["session"]["lsid"]
        self.alice.send({"type": "take", "ref": "take", "lsid": self.lsid})
        assert self.alice.ack("take")["ok"]

    def client(self, **hello: Any) -> ProgramSocket:
        return ProgramSocket(self.appliance, self.token, **hello)

    def request(self, ref: str, **fields: Any) -> dict[str, Any]:
        self.alice.send({"ref": ref, "lsid": self.lsid, **fields})
        return self.alice.ack(ref)

    def close(self) -> None:
        self.alice.send({"type": "end", "ref": "end", "lsid": self.lsid})
        self.alice.ack("end")
        self.alice.send({"type": "logout"})
        self.alice.close()
        self.customer.close()


@pytest.fixture
def session(appliance: RunningAppliance, personas: Personas) -> Iterator[Session]:
    running = Session(appliance, personas)
    yield running
    running.close()


def events_of(appliance: RunningAppliance, lsid: str, kind: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from lifeline.sessions.models import SessionEvent, SupportSession

    def read(db: Any) -> list[dict[str, Any]]:
        rows = db.scalars(
            select(SessionEvent)
            .join(SupportSession, SupportSession.id == SessionEvent.session_id)
            .where(SupportSession.lsid == lsid, SessionEvent.event_type == kind)
            .order_by(SessionEvent.id)
        ).all()
        return [
            {
                "data": dict(r.data),
                "by": r.performed_by_type,
                "info": r.system_information,
                "filename": r.filename,
                "filesize": r.filesize,
            }
            for r in rows
        ]

    return appliance.with_session(read)


def test_a_token_of_no_session_is_gone(appliance: RunningAppliance) -> None:
    client = ProgramSocket(appliance, "no-such-token")
    assert client.welcome["type"] == "gone"
    assert client.close_code() == 4410


def test_the_computer_is_shown_to_the_rep_and_the_customer(session: Session) -> None:
    client = session.client()
    assert client.welcome["lsid"] == session.lsid
    assert client.welcome["shells"] == {}
    state = session.alice.until("computer")
    assert state["connected"] is True
    assert state["computer"]["hostname"] == COMPUTER.hostname
    assert state["allowed"] == []
    view = session.customer.until("computer")
    while not view["connected"]:
        view = session.customer.until("computer")
    client.close()
    state = session.alice.until("computer")
    assert state["connected"] is False


def test_asking_consent_through_the_page_and_the_answer_logged(session: Session) -> None:
    client = session.client()
    session.alice.until("computer")
    assert session.request("ask", type="computer_ask", capability="shell")["ok"]
    asked = client.until("ask")
    assert (asked["capability"], asked["rep"]["name"]) == ("shell", "Alice Rep")
    view = session.customer.until("computer")
    while not view["asked"]:
        view = session.customer.until("computer")
    assert view["asked"] == [{"capability": "shell", "rep": "Alice Rep"}]
    session.customer.send({"type": "consent", "ref": "c", "capability": "shell", "allowed": True})
    assert session.customer.ack("c")["ok"]
    answer = client.until("consent_answer")
    assert (answer["capability"], answer["allowed"]) == ("shell", True)
    client.send({"type": "consent", "capability": "shell", "allowed": True})
    state = session.alice.until("computer")
    while state["allowed"] != ["shell"]:
        state = session.alice.until("computer")
    assert state["asked"] == []
    logged = events_of(session.appliance, session.lsid, "Service Access Allowed")
    assert logged[-1]["data"] == {"capability": "shell", "allowed": "1", "how": "asked"}
    assert logged[-1]["by"] == "customer"
    client.close()


def test_what_the_customer_has_not_allowed_is_refused(session: Session) -> None:
    client = session.client(allowed=["files"], flag=True)
    session.alice.until("computer")
    refused = session.request("info", type="computer_info")
    assert refused == {
        "type": "ack",
        "ref": "info",
        "ok": False,
        "error": "The customer has not allowed system information",
    }
    refused = session.request("sh", type="shell_open", cols=80, rows=24)
    assert refused["error"] == "The customer has not allowed a command shell"
    # The client sending what nobody may see yet is refused too, and logged.
    client.send({"type": "system_info", "request": None, "categories": []})
    assert client.until("ack", "error")["ok"] is False
    client.close()


def test_a_rep_not_in_the_session_is_refused(appliance: RunningAppliance, personas: Personas, session: Session) -> None:
    client = session.client(allowed=["system_info", "shell", "files"], flag=True)
    bob = Console(appliance, sign_in(appliance, "rep_b", personas.rep_b.password))
    for request in (
        {"type": "computer_info"},
        {"type": "shell_open", "cols": 80, "rows": 24},
        {"type": "computer_list", "path": "/"},
        {"type": "file_get", "path": "/etc/hostname"},
    ):
        bob.send({"ref": "r", "lsid": session.lsid, **request})
        assert bob.ack("r") == {"type": "ack", "ref": "r", "ok": False, "error": "You are not in this session"}
    bob.send({"type": "logout"})
    bob.close()
    client.close()


def test_the_automatic_system_information_is_logged_once(session: Session) -> None:
    client = session.client(allowed=["system_info"], flag=True)
    assert client.welcome["system_info"] is True
    categories = [
        {
            "id": "overview",
            "name": "Overview",
            "fields": [{"id": "host", "name": "Host"}, {"id": "os", "name": "Operating System"}],
            "rows": [["tess-laptop", "Debian GNU/Linux 13 (trixie)"]],
        }
    ]
    client.send({"type": "system_info", "request": None, "categories": categories})
    pushed = session.alice.until("system_info")
    assert pushed["automatic"] is True
    assert pushed["categories"] == categories
    client.close()
    again = session.client(allowed=["system_info"], flag=True)
    assert again.welcome["system_info"] is False
    again.send({"type": "system_info", "request": None, "categories": categories})
    # Asked for by the rep: pushed, not logged.
    session.alice.send({"type": "computer_info", "ref": "info", "lsid": session.lsid})
    request = again.until("get_system_info")
    again.send({"type": "system_info", "request": request["request"], "categories": categories})
    assert session.alice.ack("info")["ok"]
    assert session.alice.until("system_info")["automatic"] is False
    logged = events_of(session.appliance, session.lsid, "System Information Retrieved")
    assert len(logged) == 1
    assert logged[0]["info"] == [
        {
            "name": "Overview",
            "fields": [["host", "Host"], ["os", "Operating System"]],
            "rows": [["tess-laptop", "Debian GNU/Linux 13 (trixie)"]],
        }
    ]
    flagged = events_of(session.appliance, session.lsid, "Service Access Allowed")
    assert [e["data"] for e in flagged] == [{"capability": "system_info", "allowed": "1", "how": "flag"}]
    again.close()


def open_shell(session: Session, client: ProgramSocket) -> int:
    session.alice.send({"type": "shell_open", "ref": "open", "lsid": session.lsid, "cols": 100, "rows": 30})
    opened = client.until("open_shell")
    assert (opened["cols"], opened["rows"]) == (100, 30)
    client.send({"type": "done", "request": opened["request"]})
    answer = session.alice.ack("open")
    assert answer["ok"], answer
    assert answer["result"] == {"shell": opened["shell"]}
    return int(opened["shell"])


def acked(client: ProgramSocket, shell: int, sequence: int) -> None:
    while True:
        ack = client.until("shell_ack")
        if ack["shell"] == shell and ack["sequence"] == sequence:
            return


def recording(appliance: RunningAppliance, lsid: str, instance: int) -> list[tuple[str, str]]:
    """The shell's asciicast as CommandShellRecording serves it: (code, data) per event."""
    import json

    password = "shell-reporter-password"
    if "shell_reporter" not in appliance.cli("user", "list"):
        appliance.cli(
            "user", "add", "shell_reporter", "--password", password, "--reporting-api",
            "--view-reports", "all_sessions", "--view-recordings",
        )  # fmt: skip
    with appliance.client() as http:
        response = http.get(
            "/api/reporting",
            params={
                "username": "shell_reporter",
                "password": password,
                "generate_report": "CommandShellRecording",
                "lsid": lsid,
                "instance": str(instance),
            },
        )
    assert response.status_code == 200, response.text
    lines = response.content.decode().splitlines()
    assert json.loads(lines[0])["version"] == 2
    return [(code, data) for _, code, data in map(json.loads, lines[1:])]


def test_a_shell_is_recorded_relayed_and_taken_up_again_without_a_byte_twice(session: Session) -> None:
    client = session.client(allowed=["shell"], flag=True)
    shell = open_shell(session, client)
    assert len(events_of(session.appliance, session.lsid, "Command Shell Session Started")) == 1
    client.output(shell, 1, b"$ ")
    client.output(shell, 2, b"hello \xc3")  # an é cut in two by the frames
    client.output(shell, 3, b"\xa9\r\n")
    assert session.alice.output_of(shell, until=b"\xa9\r\n") == b"$ hello \xc3\xa9\r\n"
    acked(client, shell, 3)
    session.alice.send({"type": "shell_input", "lsid": session.lsid, "shell": shell, "data": "ls\r"})
    assert client.until("shell_input") == {"type": "shell_input", "shell": shell, "data": "ls\r"}
    client.output(shell, 4, b"file\r\n")
    client.close()  # the network drops before frame 4 is acknowledged, maybe before it arrived

    again = session.client(allowed=["shell"], flag=True)
    recorded = again.welcome["shells"][str(shell)]
    assert recorded in (3, 4)
    for sequence, payload in ((3, b"\xa9\r\n"), (4, b"file\r\n"), (5, b"$ ")):
        again.output(shell, sequence, payload)  # resent from before the welcome's sequence: dropped
    acked(again, shell, 5)
    assert session.alice.output_of(shell, until=b"file\r\n$ ") == b"$ hello \xc3\xa9\r\nfile\r\n$ "
    again.send({"type": "shell_exit", "shell": shell, "code": 0})
    ended = session.alice.until("shell_exit")
    assert (ended["shell"], ended["code"]) == (shell, 0)
    again.close()
    events = recording(session.appliance, session.lsid, 0)
    assert "".join(data for code, data in events if code == "o") == "$ hello é\r\nfile\r\n$ "
    assert [data for code, data in events if code == "i"] == ["ls\r"]


def test_the_console_gets_the_shells_recent_output_again(session: Session) -> None:
    client = session.client(allowed=["shell"], flag=True)
    shell = open_shell(session, client)
    client.output(shell, 1, b"before the reload\r\n")
    session.alice.output_of(shell, until=b"reload\r\n")
    session.alice.frames.clear()
    session.alice.send({"type": "shell_replay", "ref": "replay", "lsid": session.lsid, "shell": shell})
    assert session.alice.ack("replay")["ok"]
    assert session.alice.output_of(shell, until=b"reload\r\n") == b"before the reload\r\n"
    client.close()


def test_a_newer_client_replaces_the_older(session: Session) -> None:
    first = session.client()
    second = session.client()
    assert second.welcome["type"] == "welcome"
    assert first.close_code() == 4409
    second.close()


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (
            b"\x01\x02\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00",
            "the client sends shell output and its screen only",
        ),
        (b"\x01\x03", "a frame starts with a 16-byte header"),
    ],
)
def test_bad_frames_are_answered_and_the_socket_stays(session: Session, frame: bytes, error: str) -> None:
    client = session.client()
    client.socket.send_binary(frame)
    assert client.until("error")["error"] == error
    client.send({"type": "dance"})
    assert client.until("ack")["error"] == "unknown message type 'dance'"
    client.send({"type": "ping"})
    assert client.until("pong")["type"] == "pong"
    client.close()


def test_who_the_customer_is_shows_in_the_apis_and_validates(
    appliance: RunningAppliance, personas: Personas, session: Session
) -> None:
    """get_connected_clients lists the client's computer; SupportSession's customer entry and
    its system information are what the client said, valid against the XSD we serve."""
    from lxml import etree

    from tests.support.command import CommandApi
    from tests.support.reporting import ReportingApi, child, children, text

    client = session.client(allowed=["system_info"], flag=True)
    categories = [
        {
            "id": "drives",
            "name": "Drives",
            "fields": [{"id": "drive", "name": "Drive"}, {"id": "percent_used", "name": "Percent Used"}],
            "rows": [["/", "61%"], ["/home", "12%"], ["/media/odd\x01name", "1%"]],  # XML cannot carry \x01
        }
    ]
    client.send({"type": "system_info", "request": None, "categories": categories})
    session.alice.until("system_info")
    gsnumber = session.customer.welcome["gsnumber"]
    with appliance.client() as http:
        token = personas.integration.token(http)
        root = CommandApi(http).call("get_connected_clients", token, type="support_customer", id=str(gsnumber))
        (entry,) = [e for e in root if e.get("id") == str(gsnumber)]
        assert {etree.QName(c).localname: c.text for c in entry if etree.QName(c).localname != "connected_since"} == {
            "hostname": "tess-laptop",
            "platform": "linux",
            "timezone_offset": "3600",
        }
        client.close()
        session.alice.send({"type": "end", "ref": "end-now", "lsid": session.lsid})
        assert session.alice.ack("end-now")["ok"]
        report = ReportingApi(http).call("SupportSession", token, lsid=session.lsid)
    (found,) = children(report, "session")
    customer = children(child(found, "customer_list"), "customer")[0]
    assert {name: text(customer, name) for name in ("hostname", "os", "private_ip", "public_ip", "username")} == {
        "hostname": "tess-laptop",
        "os": "Debian GNU/Linux 13 (trixie)",
        "private_ip": "192.168.1.23",
        "public_ip": "127.0.0.1",
        "username": "tess",
    }
    info = [e for e in found.iter() if etree.QName(e).localname == "system_information"]
    assert len(info) == 1
    xml = etree.tostring(info[0], encoding="unicode")
    assert "Percent Used" in xml and "61%" in xml and "/media/odd\ufffdname" in xml


def test_the_end_of_the_session_stops_the_client_and_completes_its_shells(session: Session) -> None:
    client = session.client(allowed=["shell"], flag=True)
    shell = open_shell(session, client)
    client.output(shell, 1, b"still running\r\n")
    acked(client, shell, 1)
    session.alice.send({"type": "end", "ref": "end-now", "lsid": session.lsid})
    assert session.alice.ack("end-now")["ok"]
    assert client.until("gone")["error"] == "This support session is over."
    assert client.close_code() == 4410
    events = recording(session.appliance, session.lsid, 0)
    assert "".join(data for code, data in events if code == "o") == "still running\r\n"
    late = session.client()
    assert late.welcome["type"] == "gone"
    late.close()


def test_folders_are_listed_and_a_process_ended_is_noted(session: Session) -> None:
    client = session.client(allowed=["system_info", "files"], flag=True)
    session.alice.until("computer")
    session.alice.send({"type": "computer_list", "ref": "ls", "lsid": session.lsid})
    asked = client.until("list_folder")
    assert asked["path"] is None
    listing = {
        "path": "/home/tess",
        "parent": "/home",
        "entries": [{"name": "notes.txt", "kind": "file", "size": 12, "modified": 1.5}],
        "truncated": False,
        "roots": ["/", "/home/tess"],
    }
    client.send({"type": "listing", "request": asked["request"], "listing": listing})
    assert session.alice.ack("ls")["result"] == listing

    session.alice.send({"type": "process_end", "ref": "kill", "lsid": session.lsid, "pid": 4321})
    asked = client.until("end_process")
    assert asked["pid"] == 4321
    client.send({"type": "done", "request": asked["request"]})
    assert session.alice.ack("kill")["ok"]
    notes = events_of(session.appliance, session.lsid, "Session Note Added")
    assert notes[-1]["by"] == "representative"

    session.alice.send({"type": "process_end", "ref": "kill2", "lsid": session.lsid, "pid": 1})
    asked = client.until("end_process")
    client.send({"type": "failed", "request": asked["request"], "error": "Not allowed to end process 1"})
    assert session.alice.ack("kill2") == {
        "type": "ack",
        "ref": "kill2",
        "ok": False,
        "error": "Not allowed to end process 1",
    }
    assert len(events_of(session.appliance, session.lsid, "Session Note Added")) == len(notes)
    client.close()


def test_a_request_the_client_never_answers_fails_when_it_leaves(session: Session) -> None:
    client = session.client(allowed=["files"], flag=True)
    session.alice.until("computer")
    session.alice.send({"type": "computer_list", "ref": "ls", "lsid": session.lsid, "path": "/"})
    client.until("list_folder")
    client.close()
    assert session.alice.ack("ls")["error"] == "The customer's Lifeline client disconnected"


def test_fast_typing_is_not_held_to_the_rate_of_chat(session: Session) -> None:
    """Keys count a tenth of a message toward the console's limit: 100 in a burst all arrive."""
    client = session.client(allowed=["shell"], flag=True)
    shell = open_shell(session, client)
    for n in range(100):
        session.alice.send({"type": "shell_input", "lsid": session.lsid, "shell": shell, "data": str(n % 10)})
    typed = "".join(client.until("shell_input")["data"] for _ in range(100))
    assert typed == "0123456789" * 10
    client.close()


def test_the_customer_takes_back_what_they_allowed(session: Session) -> None:
    session.customer.send({"type": "consent", "ref": "early", "capability": "shell", "allowed": True})
    assert session.customer.ack("early")["error"] == "The customer's Lifeline client is not connected"
    client = session.client(allowed=["shell"], flag=True)
    shell = open_shell(session, client)
    session.customer.send({"type": "consent", "ref": "stop", "capability": "shell", "allowed": False})
    assert session.customer.ack("stop")["ok"]
    assert client.until("consent_answer") == {"type": "consent_answer", "capability": "shell", "allowed": False}
    client.send({"type": "shell_exit", "shell": shell, "code": None})
    client.send({"type": "consent", "capability": "shell", "allowed": False})
    state = session.alice.until("computer")
    while state["allowed"]:
        state = session.alice.until("computer")
    assert state["shells"] == []
    session.alice.send({"type": "shell_input", "lsid": session.lsid, "shell": shell, "data": "x", "ref": "late"})
    assert session.alice.ack("late")["error"] == "The customer has not allowed a command shell"
    logged = events_of(session.appliance, session.lsid, "Service Access Allowed")
    assert [e["data"]["allowed"] for e in logged] == ["1", "0"]
    client.close()


def test_a_console_and_a_page_that_come_back_are_told_the_computers_state(
    appliance: RunningAppliance, session: Session
) -> None:
    client = session.client(allowed=["files"], flag=True)
    session.alice.until("computer")
    session.customer.close()
    page = CustomerClient(appliance, token=session.token)
    view = page.until("computer")
    while not view["connected"]:
        view = page.until("computer")
    assert view["allowed"] == ["files"]
    resumed = ShellConsole(appliance, session.cookie, resume_token=session.alice.welcome["resume_token"])
    state = resumed.until("computer")
    assert (state["lsid"], state["connected"], state["allowed"]) == (session.lsid, True, ["files"])
    session.customer = page
    session.alice.close()
    session.alice = resumed
    client.close()


def test_a_shell_left_open_by_a_client_that_went_away_ends_with_the_session(session: Session) -> None:
    from sqlalchemy import select

    from lifeline.recordings.models import Recording

    client = session.client(allowed=["shell"], flag=True)
    shell = open_shell(session, client)
    client.output(shell, 1, b"last words\r\n")
    acked(client, shell, 1)
    client.close()  # the client crashed; it never comes back
    session.alice.until("computer")
    session.alice.send({"type": "end", "ref": "end-now", "lsid": session.lsid})
    assert session.alice.ack("end-now")["ok"]

    def finished() -> None:
        row = session.appliance.with_session(
            lambda db: db.scalars(select(Recording).where(Recording.id == shell)).one()
        )
        assert row.ended_at is not None and row.size > 0, "the recording is still open"

    eventually(finished)
    events = recording(session.appliance, session.lsid, 0)
    assert "".join(data for code, data in events if code == "o") == "last words\r\n"
    leftovers = [p.name for p in (session.appliance.data_dir / "recordings").rglob(f"{session.lsid}*")]
    assert all(name.endswith(".cast") for name in leftovers), leftovers
