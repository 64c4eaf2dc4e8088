"""A kill -9 of the appliance in the middle of a shell, in Chromium: the real client and the
console come back by themselves after the restart, and the console's terminal shows what
the shell showed before the kill (replayed once, not twice) and goes on working."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lifeline_client.reconnect import LAST as CLIENT_RETRY_AT_MOST
from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer, start_with_issue
from tests.browser.test_console_computer import LifelineClient, screen, type_line
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas


@pytest.fixture
def people(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[tuple[Console, Customer]]:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    customer = Customer(browser, appliance)
    yield alice, customer
    assert alice.errors == []
    alice.close()
    customer.close()


def test_the_console_and_client_come_back_after_a_kill_mid_shell(
    appliance: RunningAppliance, personas: Personas, people: tuple[Console, Customer], tmp_path: Path
) -> None:
    alice, customer = people
    start_with_issue(customer, personas.issue_started, "Kim Kill")
    alice.take("Kim Kill")
    client = LifelineClient(appliance, customer, tmp_path / "home", tmp_path / "client.log", "shell")
    try:
        computer = alice.page.locator("#computer")
        computer.locator('.computer-tab[data-pane="shell"]').click()
        computer.locator("button.open-shell").click()
        expect(screen(alice)).to_contain_text(re.compile(r"[$#]"))
        type_line(alice, "echo before-$((20+1))")
        expect(screen(alice)).to_contain_text("before-21")

        assert appliance.process is not None
        appliance.process.kill()
        appliance.process.wait()
        appliance.process = None
        expect(alice.page.locator("#connection")).to_have_text("Reconnecting…")
        appliance.start()
        started = time.monotonic()
        expect(alice.page.locator("#connection")).to_have_text("Online")
        expect(computer.locator(".client-status")).to_contain_text("The Lifeline client is connected")
        back = time.monotonic() - started
        # The client's next try comes within its backoff (at most 10 s by the contract); the
        # console's within 5 s. "Connected" is only shown once the appliance says so again.
        assert back < CLIENT_RETRY_AT_MOST + 2, f"console and client back {back:.1f} s after the restart"

        type_line(alice, "echo after-$((20+2))")
        expect(screen(alice)).to_contain_text("after-22")
        rows = screen(alice).inner_text()
        # What the shell showed before the kill is there once: kept, not replayed twice.
        assert rows.count("echo before-") == 1 and rows.count("before-21") == 1
        assert client.process.poll() is None
    finally:
        client.stop()
