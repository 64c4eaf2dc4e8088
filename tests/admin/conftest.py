"""The admin interface's tests: a real appliance per module with the personas, /login
sessions signed in as them, and Debian's Chromium for the browser tests (started as
tests/browser starts it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.admin.helpers import AdminClient, signed_in
from tests.browser.conftest import ARGS, CHROMIUM
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas

TEST_OUTPUT = Path(__file__).parent.parent.parent / "test-output"


@pytest.fixture(scope="module")
def admin(appliance: RunningAppliance, personas: Personas) -> Iterator[AdminClient]:
    client = signed_in(appliance, "admin", personas.admin.password)
    yield client
    client.close()


@pytest.fixture(scope="module")
def rep(appliance: RunningAppliance, personas: Personas) -> Iterator[AdminClient]:
    client = signed_in(appliance, "rep_a", personas.rep_a.password)
    yield client
    client.close()


# Module scope, as in tests/browser: Playwright's sync API keeps an event loop running in
# the main thread while it is alive, and later (non-browser) tests call asyncio.run.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install --test (it installs Debian's chromium)")
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = TEST_OUTPUT / "admin"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
