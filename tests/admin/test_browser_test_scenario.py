"""The API guide's whole Test Scenario (steps 1 to 9) in Debian's Chromium, with nothing but
the appliance: the admin enables the XML API and HTTP access in /login, creates the API user
(a password that never expires) and a representative; the rep logs into the console; the
API, called from the browser's address bar, generates a session key with an external key;
the customer uses it; the external key shows in the queue and on the Summary tab; after the
session the admin finds it in /login reports by its external key. Screenshots of the main
pages land in test-output/admin/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from lxml import etree
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.pages import Console, Customer, new_context, site_url
from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance

pytestmark = pytest.mark.browser

NS_17 = "{http://www.networkstreaming.com/namespaces/API}"
API_USER, API_PASSWORD = "apiuser", "integration-secret-1"
REP, REP_FIRST_PASSWORD, REP_PASSWORD = "alice", "first-day-password", "alice-own-password"


@pytest.fixture(scope="module")
def fresh(appliance: RunningAppliance) -> RunningAppliance:
    """An appliance as it might arrive: the XML API off until an admin turns it on."""
    appliance.cli_settled("settings", "set", "xml_api_enabled", "false")
    return appliance


def menu(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Administration").get_by_role("link", name=name, exact=True)


def browse_api(page: Page, appliance: RunningAppliance, **params: str) -> etree._Element:
    """Steps 5 and 6: paste an API URL into the browser's address bar and read the XML."""
    url = f"http://support.example.com:{appliance.http_port}/api/command.ns?{urlencode(params)}"
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, response.status
    return etree.fromstring(response.body())


def test_the_whole_test_scenario_in_a_browser(browser: Browser, fresh: RunningAppliance, screenshots: Path) -> None:
    appliance = fresh
    base = site_url(appliance)
    admin_context = new_context(browser)
    admin = admin_context.new_page()
    errors: list[str] = []
    admin.on("pageerror", lambda error: errors.append(str(error)))

    # Before step 1 the XML API is off: the API's URLs are not there.
    closed = admin.goto(f"{base}/api/command.ns?action=get_api_info")
    assert closed is not None
    assert closed.status == 404

    # Step 1: the admin signs into /login and enables the XML API, and HTTP access to it for testing.
    admin.goto(f"{base}/login")
    admin.screenshot(path=str(screenshots / "01-sign-in.png"))
    admin.fill("input[name=username]", "admin")
    admin.fill("input[name=password]", ADMIN_PASSWORD)
    admin.click("button[type=submit]")
    expect(admin).to_have_url(re.compile(r"/login/status$"))
    expect(admin.locator("h1")).to_have_text("Status")
    menu(admin, "Security").click()
    admin.check("input[name=xml_api_enabled]")
    admin.check("input[name=xml_api_allow_http]")
    admin.click("#security-form button[type=submit]")
    expect(admin.locator(".flash")).to_have_text("The security settings were saved.")
    expect(admin.locator("input[name=xml_api_enabled]")).to_be_checked()
    admin.screenshot(path=str(screenshots / "02-security.png"), full_page=True)

    # Step 2: a user for the API, with a password that does not need to be reset and the
    # permissions the integration needs.
    menu(admin, "Users").click()
    admin.get_by_role("link", name="New user").click()
    admin.fill("input[name=username]", API_USER)
    admin.fill("input[name=password]", API_PASSWORD)
    admin.fill("input[name=password_again]", API_PASSWORD)
    admin.fill("input[name=display_name]", "Ticketing integration")
    admin.uncheck("input[name=must_change_password]")
    for permission in ("perm_command_api", "perm_reporting_api", "perm_support", "perm_general_queue"):
        admin.check(f"input[name={permission}]")
    admin.select_option("select[name=perm_view_reports]", "all_sessions")
    admin.screenshot(path=str(screenshots / "03-new-api-user.png"), full_page=True)
    admin.click("#user-form button[type=submit]")
    expect(admin.locator(".flash")).to_have_text(f"User {API_USER} was created.")

    # Step 3: after saving, edit the account so that the password does not expire.
    admin.check("input[name=password_never_expires]")
    admin.click("#user-form button[type=submit]")
    expect(admin.locator(".flash")).to_have_text(f"User {API_USER} was saved.")
    expect(admin.locator("input[name=password_never_expires]")).to_be_checked()

    # Step 4: a normal representative account; they choose their own password at first sign-in.
    menu(admin, "Users").click()
    admin.get_by_role("link", name="New user").click()
    admin.fill("input[name=username]", REP)
    admin.fill("input[name=password]", REP_FIRST_PASSWORD)
    admin.fill("input[name=password_again]", REP_FIRST_PASSWORD)
    admin.fill("input[name=display_name]", "Alice Rep")
    admin.check("input[name=perm_show_on_rep_list]")
    expect(admin.locator("input[name=perm_support]")).to_be_checked()
    expect(admin.locator("input[name=must_change_password]")).to_be_checked()
    admin.click("#user-form button[type=submit]")
    expect(admin.locator(".flash")).to_have_text(f"User {REP} was created.")
    menu(admin, "Users").click()
    expect(admin.locator("table.grid")).to_contain_text("Ticketing integration")
    admin.screenshot(path=str(screenshots / "04-users.png"), full_page=True)

    # ...and the rep logs into the console (choosing their own password first).
    alice = Console(browser, appliance)
    alice.page.goto(f"{base}/console")
    alice.page.fill("input[name=username]", REP)
    alice.page.fill("input[name=password]", REP_FIRST_PASSWORD)
    alice.page.click("button[type=submit]")
    expect(alice.page).to_have_url(re.compile(r"/login/password\?next=/console$"))
    alice.page.fill("input[name=current]", REP_FIRST_PASSWORD)
    alice.page.fill("input[name=new]", REP_PASSWORD)
    alice.page.fill("input[name=again]", REP_PASSWORD)
    alice.page.click("form.form button[type=submit]")
    expect(alice.page).to_have_url(re.compile(r"/console$"))
    expect(alice.page.locator("#connection")).to_have_text("Online")

    # Steps 5 to 7: the API URLs, pasted into a browser, answer XML; the rep is logged in.
    api_page = new_context(browser).new_page()
    credentials = {"username": API_USER, "password": API_PASSWORD}
    reps = browse_api(api_page, appliance, action="get_logged_in_reps", **credentials)
    assert [rep.findtext(f"{NS_17}display_name") for rep in reps] == ["Alice Rep"]
    key = browse_api(
        api_page,
        appliance,
        action="generate_session_key",
        type="support",
        queue_id="general",
        external_key="INC-4242",
        **credentials,
    )
    assert key.tag == f"{NS_17}session_key", etree.tostring(key)
    short_key = key.findtext(f"{NS_17}short_key")
    assert short_key and re.fullmatch(r"\d{7}", short_key)
    assert key.findtext(f"{NS_17}external_key") == "INC-4242"
    api_page.screenshot(path=str(screenshots / "05-api-in-the-browser.png"), full_page=True)

    # Step 8: the customer uses the key; the external key shows in the queue and on the Summary tab.
    pat = Customer(browser, appliance)
    pat.enter_key(short_key)
    expect(alice.waiting("Customer")).to_contain_text("Ticket INC-4242")
    alice.page.screenshot(path=str(screenshots / "06-console-queue.png"))
    alice.take("Customer")
    expect(alice.page.locator(".summary dd.external-key")).to_contain_text("INC-4242")
    alice.chat("Hello, this is Alice. How can I help?")
    expect(pat.line("How can I help?")).to_be_visible()
    pat.chat("The printer shows an error")
    expect(alice.line("The printer shows an error")).to_be_visible()
    alice.page.screenshot(path=str(screenshots / "07-console-summary.png"))
    alice.page.click("button.end")
    expect(alice.page.locator(".afterwards")).to_contain_text("The session has ended.")

    # Step 9: after the session, the admin finds its report, with the external key, in /login.
    menu(admin, "Reports").click()
    admin.fill("input[name=external_key]", "INC-4242")
    admin.click("#report-search button[type=submit]")
    row = admin.locator("#sessions tbody tr", has_text="INC-4242")
    expect(row).to_have_count(1)
    expect(row.locator("td.external-key")).to_have_text("INC-4242")
    expect(row).to_contain_text("Alice Rep")
    admin.screenshot(path=str(screenshots / "08-reports.png"), full_page=True)
    row.locator("a").first.click()
    expect(admin.locator("#external-key")).to_have_text("INC-4242")
    expect(admin.locator("#transcript")).to_contain_text("The printer shows an error")
    expect(admin.locator("#event-log")).to_contain_text("Session End")
    admin.screenshot(path=str(screenshots / "09-session-report.png"), full_page=True)

    for person in (alice, pat):
        assert person.errors == []
        person.close()
    assert errors == []
    api_page.context.close()
    admin_context.close()


def test_screenshots_of_the_other_main_pages(browser: Browser, fresh: RunningAppliance, screenshots: Path) -> None:
    appliance = fresh
    appliance.cli("team", "add", "Service Desk", "--member", REP, "--issue", "Printer trouble", "--issue", "VPN")
    appliance.cli(
        "survey", "add", "customer", "--name", "rating", "--label", "How did we do?", "--type", "radio",
        "--option", "Great", "--option", "Poor",
    )  # fmt: skip
    appliance.cli("custom-attribute", "add", "ticket_system", "Ticket System")
    context = new_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = site_url(appliance)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    for name, path in (
        ("10-status", "/login/status"),
        ("11-teams", "/login/teams"),
        ("12-public-sites", "/login/sites/1"),
        ("13-exit-surveys", "/login/surveys"),
        ("14-api-configuration", "/login/api"),
        ("15-team-reports", "/login/reports/teams"),
        ("16-appliance", "/login/appliance"),
    ):
        response = page.goto(base + path)
        assert response is not None
        assert response.status == 200, path
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    page.goto(f"{base}/login/teams")
    page.get_by_role("link", name="Service Desk").click()
    expect(page.locator("h1")).to_have_text("Team Service Desk")
    page.screenshot(path=str(screenshots / "17-team.png"), full_page=True)
    assert errors == []
    context.close()
