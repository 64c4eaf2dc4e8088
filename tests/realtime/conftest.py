"""A Runtime of the engine's own (a fresh database, no server), for tests of the hub; and
two appliance processes on one PostgreSQL with Redis between them (`pair`, with `people`
provisioned), for the tests that cross processes (they skip without both)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config, normalize_database_url
from lifeline.runtime import Ports, Runtime
from tests.support.appliance import RunningAppliance, ScratchDatabase, two_processes
from tests.support.personas import Personas, provision


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    database = ScratchDatabase(tmp_path)
    url = normalize_database_url(database.url) if database.url else ""
    config = Config(data_dir=tmp_path / "data", database_url=url)
    db = open_database(config)
    db.call(ensure_appliance, "support.example.com")
    try:
        yield Runtime(config, db, ports=Ports(https=None, http=None))
    finally:
        db.close()
        database.drop()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningAppliance, RunningAppliance]]:
    with two_processes(tmp_path_factory.mktemp("pair")) as pair:
        yield pair


@pytest.fixture(scope="module")
def people(pair: tuple[RunningAppliance, RunningAppliance]) -> Personas:
    return provision(pair[0])
