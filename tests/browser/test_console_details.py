"""Small things reps and customers saw: the console fills the window exactly, an empty
Invite list says why, the customer's "Send a file" looks off once the session ended, and
an error is said once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer, start_with_issue
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas

PAGE_AND_WINDOW = "[document.documentElement.scrollHeight, window.innerHeight]"


@pytest.fixture
def alice(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    console = Console(browser, appliance)
    console.page.set_viewport_size({"width": 1280, "height": 720})
    console.sign_in("rep_a", personas.rep_a.password)
    yield console
    console.close()


@pytest.fixture
def customer(browser: Browser, appliance: RunningAppliance) -> Iterator[Customer]:
    person = Customer(browser, appliance)
    yield person
    person.close()


def test_the_console_is_exactly_as_tall_as_the_window(
    alice: Console, customer: Customer, personas: Personas, output_dir: Path
) -> None:
    start_with_issue(customer, personas.issue_started, "Hal Height")
    alice.take("Hal Height")
    expect(alice.page.locator("#actions")).to_be_visible()
    assert alice.page.evaluate(PAGE_AND_WINDOW) == [720, 720]
    alice.page.screenshot(path=str(output_dir / "console-1280x720.png"))
    # A narrow window wraps the top bar; a notice adds a line: still no page scrolling.
    alice.page.set_viewport_size({"width": 700, "height": 600})
    assert alice.page.evaluate(PAGE_AND_WINDOW) == [600, 600]
    alice.page.set_input_files("#script-file", files=[{"name": "x.txt", "mimeType": "text/plain", "buffer": b"hi"}])
    expect(alice.page.locator("#notice")).to_be_visible()
    assert alice.page.evaluate(PAGE_AND_WINDOW) == [600, 600]
    alice.page.screenshot(path=str(output_dir / "console-700x600-notice.png"))
    alice.page.click(".end")


def test_a_file_that_is_not_a_client_script_is_said_once(alice: Console) -> None:
    alice.page.set_input_files(
        "#script-file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"shopping list\n"}]
    )
    notice = alice.page.locator("#notice")
    expect(notice).to_have_text("This is not a client script: its first line must be BRCS1.0.")
    text = notice.inner_text().lower()
    assert text.count("not a client script") == 1


def test_an_empty_invite_list_says_why(
    browser: Browser,
    appliance: RunningAppliance,
    alice: Console,
    customer: Customer,
    personas: Personas,
    output_dir: Path,
) -> None:
    start_with_issue(customer, personas.issue_started, "Ivy Invite")
    alice.take("Ivy Invite")
    expect(alice.page.locator("#actions .invite-none")).to_have_text("No other representative is online to invite.")
    expect(alice.page.locator("#actions select[name=rep]")).to_have_count(0)
    # The whole page, for a person to look at: the console re-renders #actions as presence
    # changes, and an element screenshot fails when its element was just replaced.
    alice.page.screenshot(path=str(output_dir / "invite-nobody.png"))
    bob = Console(browser, appliance).sign_in("rep_b", personas.rep_b.password)
    expect(alice.page.locator("#actions select[name=rep] option")).to_have_text(["Bob Rep"])
    expect(alice.page.locator("#actions .invite-none")).to_have_count(0)
    alice.page.screenshot(path=str(output_dir / "invite-bob.png"))
    bob.page.click("#logout-form button")
    expect(bob.page).to_have_url(f"{bob.base}/console/login")
    bob.close()
    expect(alice.page.locator("#actions .invite-none")).to_be_visible()
    alice.page.click(".end")


def test_send_a_file_looks_off_once_the_session_ended(alice: Console, customer: Customer, personas: Personas) -> None:
    start_with_issue(customer, personas.issue_started, "Jo Ended")
    label = customer.page.locator("#composer .file-button")
    look = "(label) => { const s = getComputedStyle(label); return [s.cursor, s.opacity]; }"
    alice.take("Jo Ended")
    expect(customer.status).to_contain_text("You are chatting with")
    assert label.evaluate(look) == ["pointer", "1"]
    alice.page.click(".end")
    expect(customer.status).to_contain_text("over")
    assert label.evaluate(look) == ["default", "0.5"]
