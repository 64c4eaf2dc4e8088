"""Text that no database stores (NUL, lone surrogates) reaching a query: it is written and
looked up as U+FFFD on both databases, where PostgreSQL alone used to fail the request."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.models import CustomAttribute
from lifeline.sessions.keys import KeyState, find_key


@pytest.mark.parametrize("value", ["a\x00b", "a\ud800b", "\x00"])
def test_a_parameter_reaches_the_database_with_the_replacement_character(db: Database, value: str) -> None:
    stored = db.call(lambda session: session.execute(text("SELECT :value"), {"value": value}).scalar_one())
    assert stored == value.replace("\x00", "\ufffd").replace("\ud800", "\ufffd")


def test_many_rows_at_once_are_made_storable_too(db: Database) -> None:
    def work(session: Session) -> list[str]:
        conn = session.connection()
        conn.execute(text("CREATE TEMPORARY TABLE notes (body TEXT)"))
        conn.execute(text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "fine"}, {"body": "not\x00fine"}])
        return list(conn.execute(text("SELECT body FROM notes ORDER BY body")).scalars())

    assert db.call(work) == ["fine", "not\ufffdfine"]


def test_lookups_with_such_text_find_nothing(db: Database) -> None:
    db.call(lambda session: directory.add_user(session, "alice", "alice-password"))
    assert db.call(lambda session: directory.find_user(session, "alice")) is not None
    assert db.call(lambda session: directory.find_user(session, "alice\x00")) is None
    assert db.call(lambda session: directory.find_user(session, "\ud800alice")) is None
    state, key = db.call(lambda session: find_key(session, url_key="k\x00y"))
    assert (state, key) == (KeyState.UNKNOWN, None)


def test_one_flush_that_inserts_several_rows_of_a_table_is_made_storable(db: Database) -> None:
    """SQLAlchemy's insertmanyvalues sends several ORM rows as one INSERT whose parameters
    are one flat row, not a list of rows (bench/live_sessions.py's reps crashed on it)."""

    def work(session: Session) -> list[str]:
        session.add_all(
            [
                CustomAttribute(code_name="ticket", display_name="Ticket"),
                CustomAttribute(code_name="asset", display_name="Asset\x00tag"),
                CustomAttribute(code_name="site", display_name="Site"),
            ]
        )
        session.flush()
        return list(session.scalars(select(CustomAttribute.display_name).order_by(CustomAttribute.id)))

    assert db.call(work) == ["Ticket", "Asset\ufffdtag", "Site"]
