"""The typing indicator in Chromium: the rep sees the customer typing, the customer sees the
rep typing, and it goes once the line arrives."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas


def test_each_side_sees_the_other_typing(browser: Browser, appliance: RunningAppliance, personas: Personas) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    tess = Customer(browser, appliance)
    tess.page.goto(tess.base + "/")
    tess.page.fill("#issue input[name=customer_name]", "Tess Typist")
    tess.page.click("#issue button[type=submit]")
    tess.wait_for_client()
    alice.take("Tess Typist")
    expect(tess.status).to_contain_text("You are chatting with Alice Rep")

    tess.page.locator("#message").press_sequentially("My printer")
    expect(alice.page.locator("#session .typing")).to_have_text("Tess Typist is typing…")
    tess.page.press("#message", "Enter")
    expect(alice.line("My printer")).to_be_visible()
    expect(alice.page.locator("#session .typing")).to_have_count(0)

    alice.page.locator(".chat-form input").press_sequentially("Let me look")
    expect(tess.page.locator("#typing")).to_have_text("Alice Rep is typing…")
    expect(alice.page.locator(".chat-form input")).to_have_value("Let me look")  # redraws keep the draft
    alice.page.press(".chat-form input", "Enter")
    expect(tess.line("Let me look")).to_be_visible()
    expect(tess.page.locator("#typing")).to_be_hidden()
    assert alice.errors == [] and tess.errors == []
    alice.close()
    tess.close()
