"""Report queries read a chunk of sessions at a time, with a fixed number of queries per chunk."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, literal, select
from sqlalchemy.orm import Session

from lifeline.api.reporting.session_xml import frozen_parts
from lifeline.db.base import UtcDateTime
from lifeline.db.engine import BINARY_RESULTS, Database
from lifeline.directory.models import ViewReports
from lifeline.reports.criteria import Selection, Viewer
from lifeline.reports.freezing import freeze_stale, store_frozen
from lifeline.reports.sessions import Part, _json, matching_sessions, session_chunks
from lifeline.reports.sql import unix_seconds
from lifeline.sessions import actions as engine
from lifeline.sessions import activity
from lifeline.sessions.events import SYSTEM
from lifeline.sessions.queues import GENERAL
from tests.engine.conftest import QueryCounter
from tests.engine.helpers import customer_session, logged_in, rep

EVERYONE = Viewer(ViewReports.ALL_SESSIONS, None, recordings=True)


def make_sessions(db: Database, count: int) -> None:
    def work(session: Session) -> None:
        alice = rep(session, "alice")
        connection = logged_in(session, alice)
        for n in range(count):
            support_session = customer_session(session, GENERAL, name=f"Customer {n}")
            engine.take_session(session, support_session, connection, alice)
            actor = engine.rep_actor(connection, alice)
            for line in range(n):
                activity.send_chat(session, support_session, actor, f"line {line}")
            engine.end_session(session, support_session, SYSTEM)

    db.call(work)


def test_each_chunk_costs_the_same_queries_however_many_events_it_holds(db: Database, queries: QueryCounter) -> None:
    make_sessions(db, 7)
    queries.statements.clear()

    def read(session: Session) -> list[list[int]]:
        return [
            [len(s.events) for s in chunk]
            for chunk in session_chunks(session, Selection(), EVERYONE, Part.EVERYTHING, chunk=3)
        ]

    counts = db.call(read)
    assert counts == [[4, 5, 6], [7, 8, 9], [10]]  # start, member added, owner changed, the chat lines, end
    selects = [s for s in queries.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 + 3 * 6  # the sessions once, then six parts per chunk


def test_nobody_sees_anything_without_a_level(db: Database) -> None:
    make_sessions(db, 2)
    nobody = Viewer(ViewReports.NONE, 5, recordings=False)
    assert db.call(lambda s: list(session_chunks(s, Selection(), nobody, Part.NOTHING))) == []


def test_on_postgresql_report_rows_come_in_the_binary_format_with_the_same_values(db: Database) -> None:
    """The sessions of a report, frozen details included, arrive in PostgreSQL's binary
    format (`BINARY_RESULTS`: no hex text for the frozen copies) and read as the same Python values
    as in the text format."""
    if db.is_sqlite:
        pytest.skip("result formats are PostgreSQL's")
    make_sessions(db, 4)
    db.call(lambda s: store_frozen(s, freeze_stale(s, frozen_parts, 0, 0)[1][:2]))  # two frozen, two not
    formats: list[str] = []

    def seen(_conn, cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if "support_sessions" in statement and "sealed_session_details" in statement:
            formats.append(cursor.format.name)

    event.listen(db.engine, "after_cursor_execute", seen)
    try:
        reported = db.call(lambda s: [(r.id, r.start_time, r.frozen_details) for c in session_chunks(
            s, Selection(), EVERYONE, Part.EVERYTHING) for r in c])  # fmt: skip
        query = matching_sessions(Selection(), EVERYONE, frozen=True)
        as_text = db.call(lambda s: [tuple(row) for row in s.execute(query)])
        as_binary = db.call(
            lambda s: [tuple(row) for row in s.execute(query.execution_options(**{BINARY_RESULTS: True}))]
        )
    finally:
        event.remove(db.engine, "after_cursor_execute", seen)
    assert formats == ["BINARY", "TEXT", "BINARY"]
    assert as_binary == as_text
    assert [type(value) for value in as_binary[0]] == [type(value) for value in as_text[0]]
    assert sum(row[-1] is not None for row in as_binary) == 2
    assert [(row[0], row[4], row[-1]) for row in as_binary] == reported


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(st.characters(codec=None)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_event_json_reads_back_what_json_wrote(value: Any) -> None:
    """Event data, files and system information are read with orjson, and with json where
    orjson refuses what json wrote (a lone surrogate's escape, a number out of its range)."""
    written = json.dumps(value)
    assert _json(written) == json.loads(written)


def test_event_json_reads_nan_and_lone_surrogates_as_json_does() -> None:
    assert math.isnan(_json(json.dumps({"load": float("nan")}))["load"])
    assert _json(json.dumps(["\ud800", 2**70])) == ["\ud800", 2**70]


@pytest.mark.parametrize("microsecond", [0, 1, 499_500, 500_000, 999_499, 999_500, 999_999])
def test_unix_seconds_floors_as_python_does_on_both_databases(db: Database, microsecond: int) -> None:
    """A report's event times are worked out by the database; SQLite and PostgreSQL must
    agree with each other and with `int(moment.timestamp())`, up to the last microsecond
    of a second (a restore from one database to the other compares them)."""
    moment = datetime(2026, 11, 23, 4, 10, 18, microsecond, tzinfo=UTC)
    found = db.call(lambda s: s.execute(select(unix_seconds(literal(moment, UtcDateTime())))).scalar_one())
    assert found == int(moment.timestamp()) == 1795407018
