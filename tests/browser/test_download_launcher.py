"""A customer who got the customer client as a download: a script fetches
/api/start_session with the session key, the customer opens the launcher it saved, and
Chromium lands in the browser customer client of the session the download started, which
the representative takes and chats in."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.sessions.models import SessionKey, SupportSession
from tests.browser.pages import Console, Customer
from tests.support.appliance import RunningAppliance
from tests.support.command import NS_LATER, CommandApi
from tests.support.personas import Personas
from tests.support.xmlcheck import text_of

CURL = {"User-Agent": "curl/8.5.0", "Accept": "*/*", "Host": "support.example.com"}


def sessions_of_key(appliance: RunningAppliance, short_key: str) -> list[str]:
    def read(session: Session) -> list[str]:
        key = session.scalars(select(SessionKey).where(SessionKey.short_key == short_key)).one()
        assert key.used_at is not None
        return list(session.scalars(select(SupportSession.lsid).where(SupportSession.session_key_id == key.id)))

    return appliance.with_session(read)


def session_count(appliance: RunningAppliance) -> int:
    return appliance.with_session(lambda s: s.scalar(select(func.count()).select_from(SupportSession)) or 0)


def test_the_downloaded_launcher_opens_the_session_the_download_started(
    browser: Browser,
    appliance: RunningAppliance,
    personas: Personas,
    api: CommandApi,
    tmp_path: Path,
    output_dir: Path,
) -> None:
    alice = Console(browser, appliance).sign_in("rep_a", personas.rep_a.password)
    root = api.call(
        "generate_session_key",
        personas.api_user.params,
        type="support",
        queue_id=f"team:{personas.team_a}",
        external_key="DL-42",
    )
    short_key = text_of(root, NS_LATER, "short_key")

    # The script: HEAD first (as download managers do), then GET, saving what it is told to.
    with appliance.client(headers=CURL) as script:
        assert script.head("/api/start_session", params={"short_key": short_key}).status_code == 200
        before = session_count(appliance)
        response = script.get("/api/start_session", params={"short_key": short_key})
    assert response.status_code == 200
    assert session_count(appliance) == before + 1
    name = response.headers["content-disposition"].removeprefix("attachment; filename=")
    launcher = tmp_path / name
    launcher.write_bytes(response.content)
    url = re.search(r'url=(https://[^"]+)"', response.text)
    assert url is not None
    [lsid] = sessions_of_key(appliance, short_key)
    waiting = alice.page.locator(f'li.waiting[data-lsid="{lsid}"]')
    expect(waiting).to_contain_text("Ticket DL-42")

    # The customer double-clicks the launcher: their browser opens it and goes on to the client.
    dana = Customer(browser, appliance)
    dana.page.goto(launcher.as_uri())
    dana.wait_for_client()
    assert dana.page.url == url.group(1)
    expect(dana.status).not_to_contain_text("over")

    waiting.locator("button", has_text="Take").click()
    expect(alice.page.locator(".tab.active")).to_have_attribute("data-lsid", lsid)
    expect(dana.status).to_contain_text("You are chatting with Alice Rep")
    alice.chat("Hello from the console")
    expect(dana.line("Hello from the console")).to_be_visible()
    dana.chat("Hello from the launcher")
    expect(alice.line("Hello from the launcher")).to_be_visible()
    alice.page.screenshot(path=str(output_dir / "download-launcher-console.png"))
    dana.page.screenshot(path=str(output_dir / "download-launcher-customer.png"))
    assert sessions_of_key(appliance, short_key) == [lsid]  # one session: the download's
    assert alice.errors + dana.errors == []
    alice.close()
    dana.close()
