"""Browser tests: Debian's Chromium driven by Playwright, against a real appliance whose site
host names resolve to loopback inside the browser. The `browser` fixture itself is in
tests/conftest.py, so that every directory of browser tests shares one Chromium
(tests/support/browser.py says how it starts)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import TEST_OUTPUT

OUTPUT = TEST_OUTPUT / "browser"

expect.set_options(timeout=15_000)  # a busy two-core CI machine is slower than a laptop


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
