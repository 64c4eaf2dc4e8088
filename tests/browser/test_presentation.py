"""A presentation in Chromium: the rep presents from the console, one attendee types the
key on the public site and another follows the link, everyone chats, and the attendees
are told when the rep ends it."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.browser.pages import Console, new_context, site_url
from tests.browser.test_screen import console_errors
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas


def join(page: Page, name: str) -> None:
    page.fill("#name", name)
    page.click("#join button[type=submit]")
    expect(page.locator("#status")).to_have_text(f"You joined as {name}.")


def test_a_rep_presents_and_attendees_join_by_key_and_by_link(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    alice = Console(browser, appliance)
    console_errors(alice.page, alice.errors)  # a CSP refusal or console.error fails the test too
    alice.sign_in("rep_a", personas.rep_a.password)
    alice.page.click("#present")
    panel = alice.page.locator("#presentation")
    expect(panel.locator("h2")).to_have_text("You are presenting")
    key = panel.locator(".presentation-key").inner_text()
    link = panel.locator(".presentation-link").inner_text()
    assert len(key) == 7 and key.isdigit()
    assert link.startswith("https://support.example.com:") and "/presentation/" in link
    expect(alice.page.locator("#tabs .tab")).to_have_count(0)  # not a support session

    attendees = new_context(browser)
    ann = attendees.new_page()
    errors: list[str] = []
    ann.on("pageerror", lambda error: errors.append(str(error)))
    console_errors(ann, errors)
    ann.goto(site_url(appliance) + "/")
    ann.fill("#session-key input[name=short_key]", key)
    ann.click("#session-key button[type=submit]")
    expect(ann).to_have_url(f"{site_url(appliance)}/presentation/{key}")
    ann.wait_for_load_state()  # its scripts run before the form is used (else it submits without them)
    join(ann, "Ann Attendee")
    expect(ann.locator("#presenter")).to_have_text("Alice Rep is presenting.")

    bob_context = new_context(browser)
    bob = bob_context.new_page()
    bob.on("pageerror", lambda error: errors.append(str(error)))
    console_errors(bob, errors)
    bob.goto(link)
    join(bob, "Bob Viewer")
    expect(panel.locator(".attendee-list li")).to_have_text(["Ann Attendee", "Bob Viewer"])
    expect(ann.locator("#attendees li")).to_have_text(["Ann Attendee (you)", "Bob Viewer"])

    alice.page.reload()  # the console comes back to its presentation, key and all
    expect(alice.page.locator("#connection")).to_have_text("Online")
    expect(panel.locator(".presentation-key")).to_have_text(key)
    expect(panel.locator(".presentation-link")).to_have_text(link)
    expect(panel.locator(".attendee-list li")).to_have_text(["Ann Attendee", "Bob Viewer"])

    bob.fill("#message", "Can everyone see?")
    bob.press("#message", "Enter")
    expect(panel.locator(".conversation .line", has_text="Can everyone see?")).to_be_visible()
    expect(ann.locator("#conversation .line", has_text="Bob Viewer")).to_be_visible()
    panel.locator("input[name=body]").fill("Yes, welcome")
    panel.locator("input[name=body]").press("Enter")
    expect(bob.locator("#conversation .line", has_text="Yes, welcome")).to_be_visible()

    panel.locator(".end-presentation").click()
    expect(ann.locator("#status")).to_have_text("The presentation has ended. Thank you for attending.")
    expect(bob.locator("#message")).to_be_disabled()
    expect(panel).to_be_hidden()
    expect(alice.page.locator("#present")).to_be_visible()
    assert errors == [] and alice.errors == []
    attendees.close()
    bob_context.close()
    alice.close()
