"""The rep sees the customer's connection in Chromium: a closed tab shows as reconnecting at
once, then gone; a waiting customer who never comes back leaves the queue; a reload is
connected again. The exit survey goes to the rep who ended the session, not to the member
they invited."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas

GRACE = 4


@pytest.fixture(scope="module", autouse=True)
def short_grace(appliance: RunningAppliance) -> None:
    appliance.cli_settled("settings", "set", "customer_reconnect_seconds", str(GRACE))
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


def arrive(browser: Browser, appliance: RunningAppliance, name: str) -> Customer:
    customer = Customer(browser, appliance)
    customer.page.goto(customer.base + "/")
    customer.page.fill("#issue input[name=customer_name]", name)
    customer.page.click("#issue button[type=submit]")
    customer.wait_for_client()
    return customer


def test_a_closed_tab_in_the_queue_shows_reconnecting_then_leaves_the_queue(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    quinn = arrive(browser, appliance, "Quinn Closer")
    waiting = alice.waiting("Quinn Closer")
    expect(waiting).to_be_visible()
    quinn.close()
    expect(waiting.locator(".customer-connection")).to_have_text("reconnecting…")
    expect(waiting).to_have_count(0, timeout=GRACE * 1000 + 10_000)
    assert alice.errors == []
    alice.close()


def test_a_rep_sees_a_reload_and_a_customer_gone(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    bob = Console(browser, appliance).sign_in("rep_b", personas.rep_b.password)
    pat = arrive(browser, appliance, "Pat Leaving")
    alice.take("Pat Leaving")
    shown = alice.page.locator(".summary .customer-connection")
    expect(shown).to_have_text("connected")
    alice.page.select_option(".invite-form select", label="Bob Rep")
    alice.page.click(".invite-form button")
    expect(bob.page.locator(".summary .customer-name")).to_have_text("Pat Leaving")

    pat.page.reload()
    pat.wait_for_client()
    expect(shown).to_have_text("connected")
    pat.chat("Still here after a reload")
    expect(alice.line("Still here after a reload")).to_be_visible()

    pat.close()
    expect(shown).to_have_text("reconnecting…")
    expect(bob.page.locator(".summary .customer-connection")).to_have_text("reconnecting…")
    expect(shown).to_have_text("gone", timeout=GRACE * 1000 + 10_000)
    expect(alice.line("Session ended by Pat Leaving")).to_be_visible()
    # The customer ended it by leaving: no rep ended it, so no rep exit survey.
    expect(alice.page.locator(".rep-survey")).to_have_count(0)
    assert alice.errors == [] and bob.errors == []
    alice.close()
    bob.close()


def test_the_exit_survey_goes_to_the_rep_who_ended_the_session(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    bob = Console(browser, appliance).sign_in("rep_b", personas.rep_b.password)
    sam = arrive(browser, appliance, "Sam Surveyed")
    alice.take("Sam Surveyed")
    alice.page.select_option(".invite-form select", label="Bob Rep")
    alice.page.click(".invite-form button")
    expect(bob.page.locator(".summary .customer-name")).to_have_text("Sam Surveyed")
    alice.page.click("button.end")
    expect(alice.page.locator(".rep-survey")).to_be_visible()
    expect(bob.page.locator(".afterwards")).to_contain_text("The session has ended.")
    expect(bob.page.locator(".rep-survey")).to_have_count(0)
    assert alice.errors == [] and bob.errors == []
    for person in (alice, bob, sam):
        person.close()
