"""Fixtures: a real appliance per test module, its personas, and clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.appliance import RunningAppliance, running_appliance
from tests.support.command import CommandApi
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas, provision

SERVICE_SETTINGS = ("DATABASE_URL", "REDIS_URL", "LIFELINE_DATA_DIR")


@pytest.fixture(autouse=True)
def services_unchanged() -> Iterator[None]:
    """A test that leaves DATABASE_URL or REDIS_URL changed would quietly move every later
    test to another database or bus (the PostgreSQL pass once ran half on SQLite that way)."""
    before = {key: os.environ.get(key) for key in SERVICE_SETTINGS}
    yield
    after = {key: os.environ.get(key) for key in SERVICE_SETTINGS}
    assert after == before, "this test changed the environment the later tests run in"


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


@pytest.fixture(scope="module")
def team_a_on_duty(node: ConsoleNode, personas: Personas) -> Iterator[None]:
    """rep_a is logged into a console: Team A's issues and the general queue have someone on
    duty, so the public site's issue form starts sessions."""
    gsnumber = node.log_in("rep_a")
    yield
    node.log_out(gsnumber)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
