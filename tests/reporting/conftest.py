"""Fixtures of the Reporting API tests: the reporters, and a history of sessions run
through the engine (made once per module, on that module's appliance)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.appliance import RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.history import History, make_history
from tests.support.personas import Personas
from tests.support.reporting import Reporters, ReportingApi, provision_reporters


@pytest.fixture(scope="module")
def reporting(client: httpx.Client) -> ReportingApi:
    return ReportingApi(client)


@pytest.fixture(scope="module")
def reporters(appliance: RunningAppliance, personas: Personas) -> Reporters:
    return provision_reporters(appliance, personas.rep_b, personas.integration)


@pytest.fixture(scope="module")
def history(appliance: RunningAppliance, personas: Personas, reporters: Reporters, node: ConsoleNode) -> History:
    return make_history(appliance, personas, node)
