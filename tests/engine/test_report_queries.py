"""Report queries read a chunk of sessions at a time, with a fixed number of queries per chunk."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.directory.models import ViewReports
from lifeline.reports.criteria import Selection, Viewer
from lifeline.reports.sessions import Part, session_chunks
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
