"""A Runtime of the engine's own (a fresh database, no server), for tests of the hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config, normalize_database_url
from lifeline.runtime import Ports, Runtime
from tests.support.appliance import ScratchDatabase


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
