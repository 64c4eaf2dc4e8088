"""Consoles and the customer's chat page follow the failover primary (issue 17), in
Chromium: a rep's console and a customer's chat page on A; B takes A's data and the roles
swap: the console says "This appliance is now the backup" and opens the same page on B,
the chat page opens the same chat page on B and connects there. Then B dies and A takes
over: the console, finding B silent, asks A (a socket probe) and goes back to A."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer, site_url
from tests.support.appliance import RunningAppliance
from tests.support.failover_pair import Pair, failover_pair, waiting_session
from tests.support.personas import Personas, provision


@dataclass(frozen=True)
class Prepared:
    personas: Personas


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair[Prepared]]:
    def prepare(a: RunningAppliance) -> Prepared:
        personas = provision(a)
        return Prepared(personas)

    # The origins the browser uses (the site's name, mapped to loopback).
    with failover_pair(tmp_path_factory.mktemp("pair"), prepare, site_url) as running:
        yield running


def test_the_console_and_the_chat_page_go_to_the_primary(browser: Browser, pair: Pair[Prepared]) -> None:
    rep = pair.prepared.personas.rep_a
    alice = Console(browser, pair.a).sign_in("rep_a", rep.password)
    pat = Customer(browser, pair.a)
    try:
        token = waiting_session(pair.a)
        pat.page.goto(f"{site_url(pair.a)}/chat/{token}")
        pat.wait_for_client()
        pair.sync_and_swap()
        status = alice.page.locator("#connection")
        expect(status).to_have_text(re.compile("This appliance is now the backup"))
        # The same page on B: the console there (or its sign-in page, where the rep signs in).
        expect(alice.page).to_have_url(re.compile("^" + re.escape(site_url(pair.b)) + "/console"))
        _sign_in_if_asked(alice, rep.password)
        expect(status).to_have_text("Online")
        # The customer's chat page moves to the same chat page on B and connects there.
        expect(pat.page).to_have_url(f"{site_url(pair.b)}/chat/{token}")
        expect(pat.status).not_to_have_text(re.compile("backup|Connecting|over"))

        # B dies and A takes over: the console, finding B silent, asks A and goes there.
        pair.forced_takeover(dead=pair.b, survivor=pair.a)
        expect(alice.page).to_have_url(re.compile("^" + re.escape(site_url(pair.a)) + "/console"), timeout=30_000)
        _sign_in_if_asked(alice, rep.password)
        expect(status).to_have_text("Online")
        assert alice.errors == [] and pat.errors == []
    finally:
        alice.close()
        pat.close()


def _sign_in_if_asked(console: Console, password: str) -> None:
    """On the other appliance the console may ask the rep to sign in (the sign-in there)."""
    console.page.wait_for_load_state()
    if "/console/login" in console.page.url:
        console.page.fill("input[name=username]", "rep_a")
        console.page.fill("input[name=password]", password)
        console.page.click("button[type=submit]")
