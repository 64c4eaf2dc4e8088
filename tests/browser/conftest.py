"""Browser tests: Debian's Chromium driven by Playwright, against a real appliance whose site
host names resolve to loopback inside the browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

CHROMIUM = os.environ.get("LIFELINE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # The appliance's public site names, as a customer's DNS would resolve them.
    "--host-resolver-rules=MAP support.example.com 127.0.0.1, MAP remote.example.com 127.0.0.1, MAP partner.example.org 127.0.0.1",
]
OUTPUT = Path(__file__).parent.parent.parent / "test-output" / "browser"

expect.set_options(timeout=15_000)  # a busy two-core CI machine is slower than a laptop


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


# Module scope: Playwright's sync API keeps an event loop running in the main thread while
# it is alive, and later (non-browser) tests call asyncio.run.
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


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
