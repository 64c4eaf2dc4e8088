"""The API guide's Test Scenario, steps 4 to 8, played in a real browser: a rep logs into the
console; the Command API generates a key with an external key; the customer enters it on
the public site; the rep sees the session and its external key in the queue and on the
Summary tab; they chat and exchange files; the session is transferred to a team, a
teammate takes it, invites a third rep and ends it; both exit surveys are filled in."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.sessions.models import SessionEvent, SessionFile, SessionParticipant
from lifeline.sessions.queries import session_by_lsid
from lifeline.surveys.models import SurveyResponse
from tests.browser.pages import Console, Customer
from tests.support.appliance import RunningAppliance
from tests.support.command import NS_17, NS_LATER, CommandApi
from tests.support.personas import Personas
from tests.support.xmlcheck import text_of


@pytest.fixture(scope="module")
def desk(appliance: RunningAppliance, personas: Personas) -> Personas:
    appliance.cli("user", "add", "rep_c", "--password", "rep_c-password", "--display-name", "Carol Rep", "--support")
    appliance.cli("team", "set", "Team B", "--member", "rep_c")
    appliance.cli(
        "survey",
        "add",
        "customer",
        "--name",
        "rating",
        "--label",
        "How did we do?",
        "--type",
        "radio",
        "--option",
        "Great",
        "--option",
        "Poor",
    )
    appliance.cli("survey", "add", "customer", "--name", "comments", "--label", "Anything else?", "--type", "textarea")
    appliance.cli(
        "survey",
        "add",
        "representative",
        "--name",
        "resolved",
        "--label",
        "Resolved?",
        "--type",
        "select",
        "--option",
        "Yes",
        "--option",
        "No",
    )
    return personas


def events_of(appliance: RunningAppliance, lsid: str) -> list[SessionEvent]:
    def read(session: Session) -> list[SessionEvent]:
        support_session = session_by_lsid(session, lsid)
        assert support_session is not None
        return list(
            session.scalars(
                select(SessionEvent).where(SessionEvent.session_id == support_session.id).order_by(SessionEvent.id)
            )
        )

    return appliance.with_session(read)


def test_the_api_guides_test_scenario_in_a_browser(
    browser: Browser, appliance: RunningAppliance, desk: Personas, api: CommandApi, tmp_path: Path, output_dir: Path
) -> None:
    personas = desk
    # Step 4: a representative logs into the console.
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)

    # Steps 5-6: the API, as an integration would call it, generates a key with an external key.
    root = api.call(
        "generate_session_key",
        personas.api_user.params,
        ns=True,
        type="support",
        queue_id=f"team:{personas.team_a}",
        external_key="INC-4242",
    )
    short_key = text_of(root, NS_17, "short_key")
    assert text_of(root, NS_17, "external_key") == "INC-4242"

    # Step 8: the customer uses the seven-digit key on the public site.
    pat = Customer(browser, appliance)
    pat.enter_key(short_key)
    expect(pat.status).to_contain_text("Waiting for a representative (Team A)")
    expect(pat.status).to_contain_text("number 1 in line")

    # The rep sees the session and its external key in the queue, then on the Summary tab.
    waiting = alice.waiting("Customer")
    expect(waiting).to_contain_text("Ticket INC-4242")
    alice.take("Customer")
    expect(alice.page.locator(".summary .external-key")).to_contain_text("INC-4242")
    expect(pat.status).to_contain_text("You are chatting with Alice Rep")
    lsid = alice.page.locator(".tab.active").get_attribute("data-lsid")
    assert lsid

    # They chat, both ways.
    alice.chat("Hello, I am Alice. What can I do for you?")
    expect(pat.line("What can I do for you?")).to_be_visible()
    pat.chat("My printer prints only <blank> pages & smiles")
    expect(alice.line("only <blank> pages & smiles")).to_be_visible()

    # ...and exchange files.
    fix = tmp_path / "fix-printer.ps1"
    fix.write_bytes(b"Restart-Service Spooler\r\n" * 100)
    alice.send_file(fix)
    expect(pat.line("fix-printer.ps1")).to_be_visible()
    with pat.page.expect_download() as download:
        pat.line("fix-printer.ps1").locator("a").click()
    assert Path(download.value.path()).read_bytes() == fix.read_bytes()
    log = tmp_path / "printer.log"
    log.write_text("paper jam in tray 2\n")
    pat.page.set_input_files("#file", str(log))
    expect(alice.line("printer.log")).to_be_visible()
    with alice.page.expect_download() as download:
        alice.line("printer.log").locator("a").click()
    assert Path(download.value.path()).read_text() == "paper jam in tray 2\n"
    alice.page.screenshot(path=str(output_dir / "console-session.png"))
    pat.page.screenshot(path=str(output_dir / "customer-chat.png"))

    # The rep edits the external key on the Summary tab.
    alice.page.fill(".external-key-form input", "INC-4243")
    alice.page.click(".external-key-form button")
    expect(alice.page.locator(".summary dd.external-key")).to_contain_text("INC-4243")

    # Transfer to Team B; a teammate takes it and invites a third rep.
    bob = Console(browser, appliance).sign_in("rep_b", personas.rep_b.password)
    carol = Console(browser, appliance).sign_in("rep_c", "rep_c-password")
    alice.page.select_option(".transfer-form select", f"team:{personas.team_b}")
    alice.page.click(".transfer-form button")
    expect(pat.status).to_contain_text("Waiting for a representative (Team B)")
    expect(bob.waiting("Customer")).to_contain_text("Ticket INC-4243")
    bob.take("Customer")
    expect(bob.line("only <blank> pages & smiles")).to_be_visible()  # the whole log so far
    bob.page.select_option(".invite-form select", label="Carol Rep")
    bob.page.click(".invite-form button")
    expect(bob.page.locator(".summary .members")).to_have_text("Bob Rep, Carol Rep")
    expect(carol.page.locator(".tab", has_text="Customer")).to_be_visible()
    carol.page.locator(".tab", has_text="Customer").click()
    carol.chat("Carol here, I can help with drivers.")
    expect(pat.line("Carol here")).to_be_visible()
    expect(bob.page.locator(".summary .members")).to_have_text("Bob Rep, Carol Rep")

    # Bob ends the session; both exit surveys are filled in.
    bob.page.click("button.end")
    expect(pat.page.locator("#survey")).to_be_visible()
    pat.page.check("input[name=q1][value=Great]")
    pat.page.fill("textarea[name=q2]", "Quick and friendly")
    pat.page.click("#survey-form button[type=submit]")
    expect(pat.page.locator("#thanks")).to_be_visible()
    expect(bob.page.locator(".rep-survey")).to_be_visible()
    bob.page.select_option(".rep-survey select", "Yes")
    bob.page.click(".rep-survey button[type=submit]")
    expect(bob.page.locator(".afterwards")).to_contain_text("The session has ended.")

    # Everything landed in the event log, in order, with the documented data.
    events = events_of(appliance, lsid)
    kinds = [e.event_type for e in events]
    assert kinds[:5] == [
        "Session Start",
        "External Key",
        "Conference Member Added",
        "Conference Owner Changed",
        "Chat Message",
    ]
    for expected in (
        "File Upload",
        "File Download",
        "Session Transferred to Queue",
        "Session End",
        "Customer Exit Survey",
        "Representative Exit Survey",
    ):
        assert expected in kinds, expected
    assert kinds.index("Session Transferred to Queue") < kinds.index("Session End")
    added = [e for e in events if e.event_type == "Conference Member Added"]
    assert [dict(e.data)["username"] for e in added] == ["rep_a", "rep_b", "rep_c"]
    assert [name for name, _ in added[0].data] == [
        "name",
        "username",
        "private_ip",
        "public_ip",
        "embassies",
        "hostname",
        "os",
        "support_teams",
        "user_id",
    ]
    assert added[2].performed_by_name == "Bob Rep"  # Bob invited Carol
    chats = [e.body for e in events if e.event_type == "Chat Message"]
    assert chats == [
        "Hello, I am Alice. What can I do for you?",
        "My printer prints only <blank> pages & smiles",
        "Carol here, I can help with drivers.",
    ]
    upload = next(e for e in events if e.event_type == "File Upload")
    assert (upload.filename, upload.filesize, upload.performed_by_name) == ("fix-printer.ps1", 2500, "Alice Rep")
    assert [e.data for e in events if e.event_type == "External Key"][-1] == [["external_key", "INC-4243"]]
    survey = next(e for e in events if e.event_type == "Customer Exit Survey")
    assert survey.data == [["rating", "Great"], ["comments", "Quick and friendly"]]

    def stored(session: Session) -> tuple[int, int, int]:
        support_session = session_by_lsid(session, lsid)
        assert support_session is not None
        files = len(session.scalars(select(SessionFile).where(SessionFile.session_id == support_session.id)).all())
        reps = len(
            session.scalars(
                select(SessionParticipant).where(
                    SessionParticipant.session_id == support_session.id, SessionParticipant.role == "representative"
                )
            ).all()
        )
        surveys = len(
            session.scalars(select(SurveyResponse).where(SurveyResponse.session_id == support_session.id)).all()
        )
        return files, reps, surveys

    assert appliance.with_session(stored) == (2, 3, 2)
    for person in (alice, bob, carol, pat):
        assert person.errors == []
        person.close()


def test_the_console_keeps_what_the_rep_is_typing_and_choosing_while_the_session_changes(
    browser: Browser, appliance: RunningAppliance, desk: Personas, api: CommandApi
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", desk.rep_a.password)
    root = api.call("generate_session_key", desk.api_user.params, type="support", queue_id=f"team:{desk.team_a}")
    pat = Customer(browser, appliance)
    pat.enter_key(text_of(root, NS_LATER, "short_key"))
    alice.take("Customer")
    expect(pat.status).to_contain_text("You are chatting with Alice Rep")

    # Half a sentence typed, a transfer target and an invitee chosen...
    alice.page.select_option(".transfer-form select", f"team:{desk.team_b}")
    alice.page.select_option(".invite-form select", label="Carol Rep")
    alice.page.fill(".chat-form input", "Let me look at your print")
    # ...then the panel is redrawn: a customer line arrives, a colleague signs in.
    pat.chat("Any news?")
    expect(alice.line("Any news?")).to_be_visible()
    bob = Console(browser, appliance).sign_in("rep_b", desk.rep_b.password)
    expect(alice.page.locator(".invite-form select option", has_text="Bob Rep")).to_have_count(1)

    expect(alice.page.locator(".chat-form input")).to_have_value("Let me look at your print")
    expect(alice.page.locator(".chat-form input")).to_be_focused()
    expect(alice.page.locator(".transfer-form select")).to_have_value(f"team:{desk.team_b}")
    expect(alice.page.locator(".invite-form select option:checked")).to_have_text("Carol Rep")
    alice.page.press(".chat-form input", "Enter")
    expect(pat.line("Let me look at your print")).to_be_visible()
    expect(alice.page.locator(".chat-form input")).to_have_value("")

    alice.page.locator("button.end").click()
    expect(pat.status).not_to_contain_text("chatting")
    assert alice.errors == [] and pat.errors == []
    for person in (alice, bob, pat):
        person.close()


def test_the_generated_key_url_also_starts_the_session(
    browser: Browser, appliance: RunningAppliance, desk: Personas, api: CommandApi
) -> None:
    root = api.call("generate_session_key", desk.api_user.params, type="support", queue_id="general")
    key_url = text_of(root, NS_LATER, "key_url")
    pat = Customer(browser, appliance)
    pat.page.goto(key_url)
    pat.wait_for_client()
    expect(pat.status).to_contain_text("Waiting for a representative (General)")
    again = Customer(browser, appliance)
    response = again.page.goto(key_url)
    assert response is not None
    assert response.status == 410
    expect(again.page.locator("main")).to_contain_text("already been used")
    pat.close()
    again.close()


def test_wrong_and_expired_keys_get_a_page_saying_what_to_do(browser: Browser, appliance: RunningAppliance) -> None:
    pat = Customer(browser, appliance)
    pat.page.goto(pat.base + "/")
    pat.page.fill("#session-key input[name=short_key]", "1234567")
    pat.page.click("#session-key button[type=submit]")
    expect(pat.page.locator("main")).to_contain_text("That session key is not valid")
    expect(pat.page.locator("a", has_text="Back to the support site")).to_be_visible()
    pat.close()
