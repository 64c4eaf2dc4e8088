"""A customer starting from a rep link (the public site's representative list, or
start_session's `id` and `name`, which names the rep) is asked their name first; that name is
the session's customer in the console and in reports."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from lifeline.sessions.models import SupportSession
from lifeline.sessions.queries import session_by_lsid
from tests.browser.pages import Console, Customer
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas
from tests.support.reporting import ReportingApi, sessions_by_lsid, text


def customer_name_of(appliance: RunningAppliance, lsid: str) -> str:
    def read(session: Session) -> str:
        found: SupportSession | None = session_by_lsid(session, lsid)
        assert found is not None
        return found.customer_name

    return appliance.with_session(read)


def reported_customer(appliance: RunningAppliance, personas: Personas, lsid: str) -> str:
    """The session's primary customer in the Reporting API's SupportSession."""
    with appliance.client() as client:
        api = ReportingApi(client)
        root = api.call("SupportSession", personas.integration.token(client), lsid=lsid)
        return text(sessions_by_lsid(root)[lsid], "primary_customer")


def test_the_rep_list_asks_the_customers_name_before_starting(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    nina = Customer(browser, appliance)
    nina.page.goto(nina.base + "/")
    nina.page.locator("#representatives a", has_text="Alice Rep").click()
    expect(nina.page.locator("#customer-name h1")).to_have_text("Start a session with Alice Rep")
    expect(alice.page.locator("li.waiting")).to_have_count(0)  # nothing started yet

    # A blank name is asked again, still starting nothing.
    nina.page.fill("input[name=customer_name]", "   ")
    nina.page.click("button[type=submit]")
    expect(nina.page.locator("#customer-name .error")).to_contain_text("Please enter your name")
    expect(alice.page.locator("li.waiting")).to_have_count(0)

    nina.page.fill("input[name=customer_name]", "Nina Named")
    nina.page.click("button[type=submit]")
    nina.wait_for_client()
    expect(nina.status).to_contain_text("Waiting for a representative")
    alice.take("Nina Named")
    lsid = alice.page.locator(".tab.active").get_attribute("data-lsid")
    assert lsid
    assert customer_name_of(appliance, lsid) == "Nina Named"
    assert reported_customer(appliance, personas, lsid) == "Nina Named"
    nina.close()
    alice.close()


def test_a_rep_link_with_the_customers_name_starts_at_once(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    omar = Customer(browser, appliance)
    omar.page.goto(f"{omar.base}/api/start_session?id={personas.rep_a.id}&name=Alice%20Rep&customer.name=Omar%20Given")
    omar.wait_for_client()
    expect(alice.waiting("Omar Given")).to_be_visible()
    alice.take("Omar Given")
    omar.close()
    alice.close()


def test_a_rep_who_is_away_is_said_before_the_name_is_asked(
    browser: Browser, appliance: RunningAppliance, personas: Personas
) -> None:
    customer = Customer(browser, appliance)
    page = customer.page
    response = page.goto(f"{site(appliance)}/api/start_session?id={personas.rep_b.id}&name=Bob%20Rep")
    assert response is not None and response.status == 409
    expect(page.locator(".message")).to_contain_text("That representative is not available right now")
    # Left open, its connection kept the appliance from stopping (15 s, then killed).
    customer.close()


def site(appliance: RunningAppliance) -> str:
    return f"https://support.example.com:{appliance.https_port}"
