"""Chat, notes, files and system information inside a session."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.sessions import actions as engine
from lifeline.sessions import activity
from lifeline.sessions.events import SYSTEM
from lifeline.sessions.models import SessionEvent, SessionFile
from lifeline.sessions.queues import GENERAL
from tests.engine.helpers import customer_session, logged_in, rep


def owned_session(session: Session):  # type: ignore[no-untyped-def]
    alice = rep(session, "alice")
    connection = logged_in(session, alice)
    support_session = customer_session(session, GENERAL)
    engine.take_session(session, support_session, connection, alice)
    return support_session, engine.rep_actor(connection, alice), engine.customer_actor(session, support_session)


def test_chat_lines_are_kept_exactly_even_with_characters_xml_cannot_carry(db: Database) -> None:
    body = "hello \x00\x07 binary \ud7ff\ufffe end"

    def work(session: Session) -> None:
        support_session, alice, customer = owned_session(session)
        activity.send_chat(session, support_session, customer, body, destination=alice)
        event = session.scalars(select(SessionEvent).where(SessionEvent.event_type == "Chat Message")).one()
        assert (event.body, event.performed_by_type, event.destination_gsnumber) == (body, "customer", alice.gsnumber)

    db.call(work)
    stored = db.call(
        lambda s: s.scalars(select(SessionEvent.body).where(SessionEvent.event_type == "Chat Message")).one()
    )
    assert stored == body


def test_only_people_in_a_live_session_chat(db: Database) -> None:
    def work(session: Session) -> None:
        support_session, alice, customer = owned_session(session)
        bob = rep(session, "bob")
        outsider = engine.rep_actor(logged_in(session, bob), bob)
        with pytest.raises(engine.SessionError, match="Only people in the session"):
            activity.send_chat(session, support_session, outsider, "let me in")
        with pytest.raises(engine.SessionError, match="empty"):
            activity.send_chat(session, support_session, alice, "")
        with pytest.raises(engine.SessionError, match="at most"):
            activity.send_chat(session, support_session, alice, "x" * 20000)
        engine.end_session(session, support_session, SYSTEM)
        with pytest.raises(engine.SessionError, match="already ended"):
            activity.send_chat(session, support_session, customer, "still there?")

    db.call(work)


def test_files_are_logged_from_the_reps_side_and_counted(db: Database) -> None:
    def work(session: Session) -> None:
        support_session, alice, customer = owned_session(session)
        activity.record_file(
            session, support_session, alice, activity.FileSent("fix.ps1", 120, "a" * 64), destination=customer
        )
        activity.record_file(session, support_session, customer, activity.FileSent("../error.log", 4096, "b" * 64))
        events = session.scalars(
            select(SessionEvent)
            .where(SessionEvent.event_type.in_(["File Upload", "File Download"]))
            .order_by(SessionEvent.id)
        ).all()
        assert [(e.event_type, e.filename, e.filesize) for e in events] == [
            ("File Upload", "fix.ps1", 120),
            ("File Download", ".._error.log", 4096),
        ]
        assert events[0].files == [{"name": "fix.ps1", "size": 120}]
        assert support_session.file_transfer_count == 2
        assert session.scalars(select(SessionFile.event_id)).all() == [e.id for e in events]

    db.call(work)


def test_notes_are_for_reps(db: Database) -> None:
    def work(session: Session) -> None:
        support_session, alice, customer = owned_session(session)
        activity.add_note(session, support_session, alice, "Rebooted the printer spooler.")
        with pytest.raises(engine.SessionError, match="Only representatives"):
            activity.add_note(session, support_session, customer, "me too")

    db.call(work)


def test_system_information_keeps_its_table_shape(db: Database) -> None:
    drives = activity.InfoCategory(
        "Drives", [("drive", "Drive"), ("type", "Type"), ("used", "Percent Used")], [["C:\\", "Local Disk", "60%"]]
    )

    def work(session: Session) -> None:
        support_session, _, customer = owned_session(session)
        event = activity.record_system_information(session, support_session, customer, [drives])
        assert event.system_information == [
            {
                "name": "Drives",
                "fields": [["drive", "Drive"], ["type", "Type"], ["used", "Percent Used"]],
                "rows": [["C:\\", "Local Disk", "60%"]],
            }
        ]
        with pytest.raises(engine.SessionError, match="needs 3 fields"):
            activity.record_system_information(
                session, support_session, customer, [activity.InfoCategory("Drives", drives.fields, [["C:\\"]])]
            )

    db.call(work)


def test_a_line_sent_again_under_the_same_reference_is_logged_once(db: Database, live_events: list[object]) -> None:
    def work(session: Session) -> tuple[int, int]:
        support_session, alice, _ = owned_session(session)
        first = activity.send_chat(session, support_session, alice, "hello", client_ref="ref-1")
        again = activity.send_chat(session, support_session, alice, "hello", client_ref="ref-1")
        return first.id, again.id

    first, again = db.call(work)
    assert first == again
    chats = [e for e in live_events if getattr(e, "event", {}).get("type") == "Chat Message"]
    assert [(c.event["body"], c.event["ref"]) for c in chats] == [("hello", "ref-1")]  # type: ignore[attr-defined]


def test_a_reference_another_sender_holds_fails_in_words(db: Database) -> None:
    """Two people in one session who pick the same ref: the second line is refused, never
    acknowledged as the first one's (it would be a line said to be logged and not there)."""

    def work(session: Session) -> str:
        support_session, alice, _ = owned_session(session)
        activity.send_chat(session, support_session, alice, "hello", client_ref="1")
        customer = engine.customer_actor(session, support_session)
        with pytest.raises(engine.SessionError, match="already used by another line"):
            activity.send_chat(session, support_session, customer, "hi", client_ref="1")
        with pytest.raises(engine.SessionError, match="already used by another line"):
            activity.chat(session, lsid=support_session.lsid, gsnumber=customer.gsnumber, body="hi", client_ref="1")
        return support_session.lsid

    db.call(work)


def test_a_state_snapshot_leaves_once_per_transaction_and_not_for_chat(db: Database, live_events: list[object]) -> None:
    from lifeline.sessions.live import SessionState

    def work(session: Session) -> None:
        support_session, alice, _ = owned_session(session)
        activity.send_chat(session, support_session, alice, "hi")

    db.call(work)
    states = [e for e in live_events if isinstance(e, SessionState)]
    assert len(states) == 1
    assert states[0].state["status"] == "active"
    assert [m["name"] for m in states[0].state["members"]] == ["Alice"]

    live_events.clear()
    lsid = states[0].lsid

    def chat_only(session: Session) -> None:
        from lifeline.sessions.queries import session_by_lsid

        support_session = session_by_lsid(session, lsid)
        assert support_session is not None
        activity.send_chat(session, support_session, engine.customer_actor(session, support_session), "thanks")

    db.call(chat_only)
    assert not any(isinstance(e, SessionState) for e in live_events)
