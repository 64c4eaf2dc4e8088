"""Debian's Chromium for the browser tests: where it is and how it starts. Site host names
resolve to loopback inside the browser, as a customer's DNS would resolve them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright

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
TEST_OUTPUT = Path(__file__).parent.parent.parent / "test-output"


def launch(playwright: Playwright) -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install --test (it installs Debian's chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
