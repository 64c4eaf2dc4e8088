"""The console's session tabs in Chromium: Take selects the session taken, a tab in the
background shows news until it is opened, and a reload keeps the open tab and the drafts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer, start_with_issue
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas


@pytest.fixture
def alice(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    console = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    yield console
    assert console.errors == []
    console.close()


@pytest.fixture
def customers(browser: Browser, appliance: RunningAppliance) -> Iterator[list[Customer]]:
    started: list[Customer] = []
    yield started
    for customer in started:
        customer.close()


def arrive(
    browser: Browser, appliance: RunningAppliance, personas: Personas, customers: list[Customer], name: str
) -> Customer:
    customer = Customer(browser, appliance)
    customers.append(customer)
    start_with_issue(customer, personas.issue_started, name)
    return customer


def tab(console: Console, name: str):  # type: ignore[no-untyped-def]
    return console.page.locator("#tabs .tab", has_text=name)


def test_take_selects_the_session_taken_and_only_it(
    browser: Browser, appliance: RunningAppliance, personas: Personas, alice: Console, customers: list[Customer]
) -> None:
    arrive(browser, appliance, personas, customers, "Tabby First")
    alice.take("Tabby First")
    arrive(browser, appliance, personas, customers, "Tabby Second")
    alice.take("Tabby Second")
    expect(alice.page.locator("#tabs .tab.active")).to_have_count(1)
    expect(alice.page.locator("#tabs .tab.active")).to_have_text("Tabby Second")
    expect(alice.page.locator('#tabs .tab[aria-selected="true"]')).to_have_text("Tabby Second")


def test_a_message_in_a_background_session_marks_its_tab_until_it_is_opened(
    browser: Browser, appliance: RunningAppliance, personas: Personas, alice: Console, customers: list[Customer]
) -> None:
    first = arrive(browser, appliance, personas, customers, "Una Read")
    alice.take("Una Read")
    arrive(browser, appliance, personas, customers, "Vic Later")
    alice.take("Vic Later")
    expect(tab(alice, "Una Read")).not_to_have_class("tab unread")
    first.chat("Are you still there?")
    expect(tab(alice, "Una Read")).to_have_class("tab unread")
    expect(tab(alice, "Una Read").locator(".unread-mark")).to_be_visible()
    expect(tab(alice, "Vic Later")).to_have_class("tab active")  # the open one is not marked
    tab(alice, "Una Read").click()
    expect(alice.line("Are you still there?")).to_be_visible()
    expect(tab(alice, "Una Read")).to_have_class("tab active")
    expect(tab(alice, "Una Read").locator(".unread-mark")).to_have_count(0)


def test_a_reload_keeps_the_open_session_and_the_drafts(
    browser: Browser, appliance: RunningAppliance, personas: Personas, alice: Console, customers: list[Customer]
) -> None:
    arrive(browser, appliance, personas, customers, "Wes Draft")
    alice.take("Wes Draft")
    arrive(browser, appliance, personas, customers, "Xena Other")
    alice.take("Xena Other")
    tab(alice, "Wes Draft").click()
    alice.page.fill(".chat-form input[name=message]", "Half a sentence about the print")
    alice.page.fill(".note-form input[name=note]", "Asked twice already")
    tab(alice, "Xena Other").click()
    alice.page.fill(".chat-form input[name=message]", "Hello Xena")
    tab(alice, "Wes Draft").click()

    alice.page.reload()
    expect(alice.page.locator("#connection")).to_have_text("Online")
    expect(alice.page.locator("#tabs .tab.active")).to_have_text("Wes Draft")
    expect(alice.page.locator(".summary .customer-name")).to_have_text("Wes Draft")
    expect(alice.page.locator(".chat-form input[name=message]")).to_have_value("Half a sentence about the print")
    expect(alice.page.locator(".note-form input[name=note]")).to_have_value("Asked twice already")
    tab(alice, "Xena Other").click()
    expect(alice.page.locator(".chat-form input[name=message]")).to_have_value("Hello Xena")

    # A sent line is no longer a draft.
    alice.chat("Hello Xena")
    expect(alice.line("Hello Xena")).to_be_visible()
    alice.page.reload()
    expect(alice.page.locator("#tabs .tab.active")).to_have_text("Xena Other")
    expect(alice.page.locator(".chat-form input[name=message]")).to_have_value("")
