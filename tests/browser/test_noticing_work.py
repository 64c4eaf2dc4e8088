"""A rep notices work: a session arriving in one of their queues plays a chime (WebAudio),
shows a browser notification when they allowed them, and counts in the page title."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer, start_with_issue
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas

# Headless Chromium has no speakers and shows no notifications: count the calls instead.
SPIES = """
window.chimes = 0;
const startTone = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.chimes += 1; return startTone.apply(this, args); };
window.notifications = [];
const RealNotification = window.Notification;
window.Notification = class extends RealNotification {
  constructor(title, options) {
    super(title, options);
    window.notifications.push([title, options ? options.body : ""]);
  }
};
"""


@pytest.fixture
def alice(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    console = Console(browser, appliance)
    console.context.grant_permissions(["notifications"], origin=console.base)
    console.context.add_init_script(SPIES)
    console.sign_in("rep_a", personas.rep_a.password)
    yield console
    assert console.errors == []
    console.close()


def test_a_session_arriving_in_my_queue_chimes_notifies_and_counts_in_the_title(
    browser: Browser, appliance: RunningAppliance, personas: Personas, alice: Console
) -> None:
    expect(alice.page).to_have_title("Console — Alice Rep")
    assert alice.page.evaluate("Notification.permission") == "granted"
    customers = [Customer(browser, appliance), Customer(browser, appliance)]
    start_with_issue(customers[0], personas.issue_started, "Yan Waiting")
    expect(alice.page).to_have_title("(1) Console — Alice Rep")
    assert alice.page.evaluate("window.chimes") == 1
    assert alice.page.evaluate("window.notifications") == [["Yan Waiting is waiting", "In Team A"]]

    start_with_issue(customers[1], personas.issue_error, "Zoe Waiting")
    expect(alice.page).to_have_title("(2) Console — Alice Rep")
    assert alice.page.evaluate("window.chimes") == 2
    assert alice.page.evaluate("window.notifications.length") == 2

    # Taking one is not news; the count follows what still waits.
    alice.take("Yan Waiting")
    expect(alice.page).to_have_title("(1) Console — Alice Rep")
    alice.take("Zoe Waiting")
    expect(alice.page).to_have_title("Console — Alice Rep")
    assert alice.page.evaluate("window.chimes") == 2
    for customer in customers:
        customer.close()


def test_no_notification_without_permission(browser: Browser, appliance: RunningAppliance, personas: Personas) -> None:
    console = Console(browser, appliance)
    console.context.add_init_script(SPIES)
    console.sign_in("rep_a", personas.rep_a.password)
    customer = Customer(browser, appliance)
    start_with_issue(customer, personas.issue_started, "Ada Quiet")
    expect(console.page).to_have_title("(1) Console — Alice Rep")
    assert console.page.evaluate("window.chimes") == 1
    assert console.page.evaluate("window.notifications") == []
    console.take("Ada Quiet")
    customer.close()
    console.close()
