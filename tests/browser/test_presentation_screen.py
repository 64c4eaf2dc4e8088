"""The presenter's screen in Chromium: the rep shares it from the console (Chromium's fake
capture, VP8 from WebCodecs), an attendee's page shows it, and once the presentation ends
PresentationRecording serves it as WebM."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, expect

from tests.admin.helpers import signed_in
from tests.browser.conftest import ARGS, CHROMIUM
from tests.browser.pages import Console, new_context, site_url
from tests.browser.test_screen import CAPTURE_ARGS, console_errors, pixel
from tests.support.appliance import RunningAppliance, eventually
from tests.support.personas import Personas
from tests.support.reporting import ReportingApi, provision_reporters


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + CAPTURE_ARGS)
    yield launched
    launched.close()


def test_attendees_see_the_presenters_screen_and_it_is_recorded(
    browser: Browser, appliance: RunningAppliance, personas: Personas, client: httpx.Client, output_dir: Path
) -> None:
    alice = Console(browser, appliance)
    console_errors(alice.page, alice.errors)  # a CSP refusal or console.error fails the test too
    alice.sign_in("rep_a", personas.rep_a.password)
    alice.page.click("#present")
    panel = alice.page.locator("#presentation")
    key = panel.locator(".presentation-key").inner_text()

    attendees = new_context(browser)
    ann = attendees.new_page()
    errors: list[str] = []
    ann.on("pageerror", lambda error: errors.append(str(error)))
    console_errors(ann, errors)
    ann.goto(f"{site_url(appliance)}/presentation/{key}")
    ann.fill("#name", "Ann Attendee")
    ann.click("#join button[type=submit]")
    expect(ann.locator("#no-screen")).to_be_visible()

    panel.locator("button.share-screen").click()  # Chromium's fake capture, no picker
    expect(panel.locator(".sharing")).to_contain_text("Your screen is shown to the attendees.")
    canvas = ann.locator("#screen")
    expect(canvas).to_be_visible()
    eventually(lambda: _positive(canvas.evaluate("(c) => Number(c.dataset.frames || 0)")), timeout=15)
    assert canvas.evaluate("(c) => [c.width, c.height]") == [1280, 720]
    red, green, blue = pixel(canvas, 10, 10)  # the fake screen's green test pattern
    assert green > 40 and red < 30 and blue < 30, (red, green, blue)

    ann.screenshot(path=str(output_dir / "presentation-attendee.png"))
    alice.page.screenshot(path=str(output_dir / "presentation-console.png"))

    # A second attendee joins while the screen is shown and starts at a key frame.
    late = attendees.new_page()
    late.on("pageerror", lambda error: errors.append(str(error)))
    console_errors(late, errors)
    late.goto(f"{site_url(appliance)}/presentation/{key}")
    late.fill("#name", "Late Larry")
    late.click("#join button[type=submit]")
    late_canvas = late.locator("#screen")
    eventually(lambda: _positive(late_canvas.evaluate("(c) => Number(c.dataset.frames || 0)")), timeout=15)

    presentation = panel.get_attribute("data-lsid")
    assert presentation is not None
    panel.locator(".end-presentation").click()
    expect(ann.locator("#status")).to_have_text("The presentation has ended. Thank you for attending.")
    expect(canvas).to_be_hidden()
    assert errors == [] and alice.errors == []

    reporters = provision_reporters(appliance, personas.rep_b, personas.integration)
    reporting = ReportingApi(client)

    def recorded() -> httpx.Response:
        response = reporting.raw("PresentationRecording", reporters.everything.params, lsid=presentation)
        assert response.headers["content-type"] == "video/webm", response.text[:300]
        return response

    response = eventually(recorded, timeout=20)
    assert response.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    assert len(response.content) > 1000
    # /login lists the presentation, and its page plays the recording.
    with signed_in(appliance, "admin", personas.admin.password) as admin:
        page = admin.get(f"/login/reports/sessions/{presentation}")
        assert page.status_code == 200
        assert "Presentation by Alice Rep" in page.text
        assert re.search(r">Presentation</a>", page.text)
        assert re.search(r'"/login/reports/recordings/\d+"', page.text)
    attendees.close()
    alice.close()


def _positive(value: int) -> bool:
    assert value > 0, value
    return True
