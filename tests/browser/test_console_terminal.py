"""The console's terminal: xterm.js comes from npm's copy (only the files the console loads
are served), and it draws under the pages' Content-Security-Policy, which refuses the
<style> elements xterm.js makes (terminal.js copies them into constructed style sheets)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.pages import Console, Customer, start_with_issue
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas

# A terminal in the page, as computer.js makes one, with a line in red and one in green.
DRAW = """async () => {
  const box = document.createElement("div");
  box.id = "probe";
  box.style.width = "640px";
  box.style.height = "320px";
  document.body.append(box);
  const made = LifelineTerminal.open(box);
  await new Promise((done) => made.term.write("\\x1b[31mred line\\x1b[0m\\r\\n\\x1b[32mgreen\\x1b[0m plain", done));
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const red = [...box.querySelectorAll(".xterm-rows span")].find((s) => s.textContent.includes("red line"));
  const row = box.querySelector(".xterm-rows > div");
  return {
    cols: made.term.cols, rows: made.term.rows,
    text: box.querySelector(".xterm-rows").textContent,
    red: red ? getComputedStyle(red).color : null,
    spanDisplay: red ? getComputedStyle(red).display : null,
    rowHeight: row.getBoundingClientRect().height,
    background: getComputedStyle(box.querySelector(".xterm-scrollable-element")).backgroundColor,
  };
}"""


@pytest.fixture
def alice(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    console = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    yield console
    assert console.errors == []
    console.close()


def test_only_the_terminals_files_are_served_from_node_modules(client: httpx.Client) -> None:
    for name, kind in (("xterm.js", "javascript"), ("xterm.css", "text/css"), ("addon-fit.js", "javascript")):
        response = client.get(f"/static/vendor/{name}")
        assert response.status_code == 200, name
        assert kind in response.headers["content-type"]
        assert response.headers["etag"]  # cached as the other static files are
        again = client.get(f"/static/vendor/{name}", headers={"if-none-match": response.headers["etag"]})
        assert again.status_code == 304
    for other in (
        "package.json",
        "@xterm/xterm/package.json",
        "@xterm/xterm/lib/xterm.js",
        "xterm.js.map",
        "../package.json",
        "%2e%2e/%2e%2e/pyproject.toml",
    ):
        assert client.get(f"/static/vendor/{other}").status_code == 404, other


def test_the_terminal_draws_under_the_consoles_content_security_policy(alice: Console, client: httpx.Client) -> None:
    policy = client.get("/console/login").headers["content-security-policy"]
    assert "style-src 'self';" in policy  # the policy stays as strict as before: no inline styles
    result = alice.page.evaluate(DRAW)
    assert "red line" in result["text"] and "green plain" in result["text"]
    assert result["red"] == "rgb(204, 51, 51)"  # the console's red (#cc3333): xterm.js's theme rules apply
    assert result["spanDisplay"] == "inline-block"  # and its cell rules
    assert 10 < result["rowHeight"] < 40
    assert result["background"] == "rgb(17, 24, 32)"  # the console's theme
    assert result["cols"] > 40 and result["rows"] > 10  # fitted to its box


def test_a_session_shows_that_the_lifeline_client_is_not_running(
    browser: Browser, appliance: RunningAppliance, personas: Personas, alice: Console
) -> None:
    customer = Customer(browser, appliance)
    try:
        start_with_issue(customer, personas.issue_started, "Nico Noclient")
        alice.take("Nico Noclient")
        computer = alice.page.locator("#computer")
        expect(computer.locator(".client-status")).to_have_text(
            "The Lifeline client is not running on the customer's computer."
        )
        # Only the Screen pane: the customer can still share a screen from their browser.
        expect(computer.locator(".computer-tab")).to_have_count(1)
        expect(computer.locator('.computer-tab[data-pane="screen"]')).to_be_visible()
        alice.page.click(".end")
        expect(computer).to_be_hidden()
    finally:
        customer.close()
