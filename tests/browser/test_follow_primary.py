"""Consoles and the customer's chat page follow the failover primary (issue 17), in
Chromium: a rep's console on A, when A turns backup, says "This appliance is now the
backup" and opens the same page on B; a customer's chat page opened on A afterwards is sent
to the same chat page on B."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer, site_url
from tests.support.appliance import RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.failover_pair import Pair, failover_pair
from tests.support.personas import Personas, provision
from tests.support.sockets import start_by_issue


@dataclass(frozen=True)
class Prepared:
    personas: Personas
    token: str  # a waiting session's customer token


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair[Prepared]]:
    def prepare(a: RunningAppliance) -> Prepared:
        personas = provision(a)
        node = ConsoleNode(a.db)
        node.log_in("rep_b")  # someone on duty: the issue form starts a session
        token = start_by_issue(a, "Tess")
        node.close()
        return Prepared(personas, token)

    # The origins the browser uses (the site's name, mapped to loopback).
    with failover_pair(tmp_path_factory.mktemp("pair"), prepare, site_url) as running:
        yield running


def test_the_console_and_the_chat_page_go_to_the_primary(browser: Browser, pair: Pair[Prepared]) -> None:
    rep = pair.prepared.personas.rep_a
    alice = Console(browser, pair.a).sign_in("rep_a", rep.password)
    pat = Customer(browser, pair.a)
    try:
        pair.roles(primary=pair.b, backup=pair.a)
        status = alice.page.locator("#connection")
        expect(status).to_have_text(re.compile("This appliance is now the backup"))
        # The same page on B: the console there (or its sign-in page, where the rep signs in).
        expect(alice.page).to_have_url(re.compile("^" + re.escape(site_url(pair.b)) + "/console"))
        if "/console/login" in alice.page.url:
            alice.page.fill("input[name=username]", "rep_a")
            alice.page.fill("input[name=password]", rep.password)
            alice.page.click("button[type=submit]")
        expect(status).to_have_text("Online")

        pat.page.goto(f"{site_url(pair.a)}/chat/{pair.prepared.token}")
        expect(pat.page).to_have_url(f"{site_url(pair.b)}/chat/{pair.prepared.token}")
        expect(pat.status).not_to_have_text(re.compile("backup|Connecting"))
        assert alice.errors == [] and pat.errors == []
    finally:
        alice.close()
        pat.close()
