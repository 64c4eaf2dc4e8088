"""Fixtures: a real appliance per test module, its personas, and clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.appliance import RunningAppliance, running_appliance
from tests.support.command import CommandApi
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas, provision


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAppliance]:
    with running_appliance(tmp_path_factory.mktemp("appliance")) as running:
        yield running


@pytest.fixture(scope="module")
def personas(appliance: RunningAppliance) -> Personas:
    return provision(appliance)


@pytest.fixture(scope="module")
def client(appliance: RunningAppliance) -> Iterator[httpx.Client]:
    with appliance.client() as c:
        yield c


@pytest.fixture(scope="module")
def api(client: httpx.Client) -> CommandApi:
    return CommandApi(client)


@pytest.fixture(scope="module")
def node(appliance: RunningAppliance) -> Iterator[ConsoleNode]:
    console = ConsoleNode(appliance.db)
    yield console
    console.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
