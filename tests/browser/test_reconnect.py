"""A dropped connection in the middle of a chat: the appliance restarts while a rep and a
customer are chatting, and a line is typed while it is down. Both reconnect by themselves,
keep their gsnumbers, and no line is lost or shown twice."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.presence.models import ClientConnection
from lifeline.sessions.models import SessionEvent, SessionParticipant
from lifeline.sessions.queries import session_by_lsid
from tests.browser.pages import Console, Customer
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas


def chat_lines(appliance: RunningAppliance, lsid: str) -> list[str]:
    def read(session: Session) -> list[str]:
        support_session = session_by_lsid(session, lsid)
        assert support_session is not None
        return [
            body or ""
            for body in session.scalars(
                select(SessionEvent.body)
                .where(SessionEvent.session_id == support_session.id, SessionEvent.event_type == "Chat Message")
                .order_by(SessionEvent.id)
            )
        ]

    return appliance.with_session(read)


def connections_of(appliance: RunningAppliance, lsid: str) -> tuple[list[int], int]:
    """The session's participant gsnumbers, and how many console connections rep_a ever had."""

    def read(session: Session) -> tuple[list[int], int]:
        support_session = session_by_lsid(session, lsid)
        assert support_session is not None
        gsnumbers = list(
            session.scalars(
                select(SessionParticipant.gsnumber)
                .where(SessionParticipant.session_id == support_session.id)
                .order_by(SessionParticipant.id)
            )
        )
        consoles = session.scalar(
            select(func.count()).select_from(ClientConnection).where(ClientConnection.kind == "representative")
        )
        return gsnumbers, consoles or 0

    return appliance.with_session(read)


def test_a_restart_in_the_middle_of_a_chat_loses_and_repeats_nothing(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    pat = Customer(browser, appliance)
    pat.page.goto(pat.base + "/")
    pat.page.fill("#issue input[name=customer_name]", "Pat Restart")
    pat.page.click("#issue button[type=submit]")
    pat.wait_for_client()
    alice.waiting("Pat Restart").locator("button").click()
    expect(pat.status).to_contain_text("You are chatting with Alice Rep")
    lsid = alice.page.locator(".tab.active").get_attribute("data-lsid")
    assert lsid
    alice.chat("Before the restart")
    expect(pat.line("Before the restart")).to_be_visible()
    before = connections_of(appliance, lsid)

    appliance.stop()
    expect(pat.status).to_have_text("Reconnecting…")
    expect(alice.page.locator("#connection")).to_have_text("Reconnecting…")
    pat.chat("Typed while you were away")  # waits in the client, sent once it is back
    appliance.start()

    expect(alice.page.locator("#connection")).to_have_text("Online", timeout=30_000)
    expect(alice.line("Typed while you were away")).to_have_count(1)
    expect(pat.line("Typed while you were away")).to_have_count(1)
    alice.chat("After the restart")
    expect(pat.line("After the restart")).to_have_count(1)
    pat.chat("Still here")
    expect(alice.line("Still here")).to_have_count(1)
    expect(alice.line("Before the restart")).to_have_count(1)
    expect(pat.line("Before the restart")).to_have_count(1)

    assert chat_lines(appliance, lsid) == [
        "Before the restart",
        "Typed while you were away",
        "After the restart",
        "Still here",
    ]
    # Same connections, same gsnumbers: no new participant rows, no second console login.
    assert connections_of(appliance, lsid) == before
    assert alice.errors == []
    assert pat.errors == []
    alice.close()
    pat.close()
