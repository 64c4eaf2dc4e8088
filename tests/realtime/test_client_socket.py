"""The Lifeline client's socket (/ws/client) against the real server, spoken by a scripted
client at the protocol's level: who the customer's computer is, the customer's consent,
system information logged once, shells recorded and relayed exactly once, requests the
customer has not allowed refused, and bad input answered, not fatal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.appliance import RunningAppliance
from tests.support.client_socket import COMPUTER, ProgramSocket, ShellConsole
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, sign_in, start_by_issue


class Session:
    def __init__(self, appliance: RunningAppliance, personas: Personas) -> None:
        self.appliance = appliance
        self.alice = ShellConsole(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
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
        return [{"data": dict(r.data), "by": r.performed_by_type, "info": r.system_information} for r in rows]

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
