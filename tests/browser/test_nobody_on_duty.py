"""When nobody is on duty for a queue (no representative who may take from it is logged into
a console), the public site says so instead of offering it. A start that comes anyway (a
link an integration made, an old page) still queues, as the Session Generation API promises,
and the customer is told nobody is on duty until someone is."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer, start_with_issue
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas


def test_the_public_site_says_nobody_is_on_duty_and_offers_nothing_to_wait_for(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    customer = Customer(browser, appliance)
    customer.page.goto(customer.base + "/")
    expect(customer.page.locator("#nobody-on-duty")).to_contain_text("Nobody is on duty right now")
    expect(customer.page.locator("#issue")).to_have_count(0)
    expect(customer.page.locator("#session-key")).to_be_visible()  # a key from a rep still works

    # A link or an old page that starts anyway waits in line, told that nobody is on duty.
    customer.page.goto(
        f"{customer.base}/api/start_session?issue_menu=1&id={personas.issue_started}&customer_name=Ida Early"
    )
    expect(customer.status).to_contain_text("Nobody is on duty right now")

    # Someone signs in: the waiting customer hears it, and the public site offers Team A's issues again.
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    expect(customer.status).to_have_text("Waiting for a representative (Team A). You are number 1 in line.")
    alice.take("Ida Early")
    alice.page.click(".end")
    customer.page.goto(customer.base + "/")
    expect(customer.page.locator("#nobody-on-duty")).to_have_count(0)
    start_with_issue(customer, personas.issue_started, "Ida Onduty")
    expect(alice.waiting("Ida Onduty")).to_be_visible()
    alice.take("Ida Onduty")
    alice.page.click(".end")
    sign_out(alice)
    customer.close()


def test_only_the_queues_someone_could_take_from_are_offered(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    appliance.cli("team", "set", "Team B", "--issue", "Lost my password")
    # rep_b (Team B) is on duty; Team A's issues have nobody, the general queue has rep_b.
    bob = Console(browser, appliance).sign_in("rep_b", personas.rep_b.password)
    customer = Customer(browser, appliance)
    customer.page.goto(customer.base + "/")
    options = customer.page.locator("#issue select[name=id] option")
    expect(options).to_have_text(["Something else", "Lost my password"])
    sign_out(bob)
    customer.close()


def sign_out(console: Console) -> None:
    """Signing out logs the rep out at once (closing the tab would take two minutes)."""
    console.page.click("#logout-form button")
    expect(console.page).to_have_url(f"{console.base}/console/login")
    console.close()


def test_a_waiting_customer_is_told_when_the_last_rep_leaves_and_keeps_their_place(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    customer = Customer(browser, appliance)
    start_with_issue(customer, personas.issue_started, "Kit Kept")
    expect(customer.status).to_have_text("Waiting for a representative (Team A). You are number 1 in line.")
    sign_out(alice)
    expect(customer.status).to_have_text(
        "Waiting for a representative (Team A). You are number 1 in line. "
        "Nobody is on duty right now: you keep your place if you wait, or come back later."
    )

    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    expect(alice.waiting("Kit Kept")).to_be_visible()  # still queued
    expect(customer.status).to_have_text("Waiting for a representative (Team A). You are number 1 in line.")
    alice.take("Kit Kept")
    expect(customer.status).to_contain_text("You are chatting with Alice Rep")
    alice.page.click(".end")
    sign_out(alice)
    customer.close()
