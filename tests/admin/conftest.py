"""The admin interface's tests: a real appliance per module with the personas, /login
sessions signed in as them, and Debian's Chromium for the browser tests (started as
tests/browser starts it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.admin.helpers import AdminClient, signed_in

# The browser tests' Playwright and Chromium fixtures (module scope, why is said there).
from tests.browser.conftest import browser, playwright  # noqa: F401
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


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = TEST_OUTPUT / "admin"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
