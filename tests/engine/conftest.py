"""The engine tested directly: a freshly migrated database of its own per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config, normalize_database_url
from lifeline.db.engine import Database
from tests.support.appliance import ScratchDatabase


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = ScratchDatabase(tmp_path)
    url = normalize_database_url(database.url) if database.url else ""
    opened = open_database(Config(data_dir=tmp_path / "data", database_url=url))
    opened.call(ensure_appliance, "support.example.com")
    try:
        yield opened
    finally:
        opened.close()
        database.drop()


@pytest.fixture
def live_events(db: Database) -> list[object]:
    """Every live event the engine lets out after commit, in order."""
    captured: list[object] = []
    db.after_commit = captured.extend
    return captured


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(statement)


@pytest.fixture
def queries(db: Database) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    yield counter
    event.remove(db.engine, "before_cursor_execute", counter)
