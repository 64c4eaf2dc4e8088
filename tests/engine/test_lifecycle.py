"""The support session's lifecycle and the events each step appends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lifeline.appliance.stamps import StampBumped
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.presence.models import ClientConnection
from lifeline.sessions import actions as engine
from lifeline.sessions import connections
from lifeline.sessions.events import SYSTEM
from lifeline.sessions.live import SessionEventAdded, SessionState
from lifeline.sessions.models import SessionEvent, SessionParticipant, SessionTeam, SupportSession
from lifeline.sessions.queues import GENERAL, Queue, QueueKind, rep_queue, resolve_queue
from tests.engine.helpers import customer_session, logged_in, rep


def events(session: Session, support_session: SupportSession) -> list[SessionEvent]:
    return list(
        session.scalars(
            select(SessionEvent).where(SessionEvent.session_id == support_session.id).order_by(SessionEvent.id)
        )
    )


def types(session: Session, support_session: SupportSession) -> list[str]:
    return [e.event_type for e in events(session, support_session)]


def test_a_session_starts_waiting_in_its_queue_with_a_session_start_event(db: Database) -> None:
    def work(session: Session) -> None:
        team = directory.add_team(session, "Desk")
        support_session = customer_session(session, resolve_queue(session, f"team:{team.id}"), external_key="T-1")
        assert support_session.status == "waiting"
        assert (support_session.queue_kind, support_session.queue_ref_id) == ("team", team.id)
        assert support_session.primary_team_id == team.id
        assert session.get(SessionTeam, (support_session.id, team.id)) is not None
        log = events(session, support_session)
        assert [e.event_type for e in log] == ["Session Start", "External Key"]
        start = log[0]
        assert (start.performed_by_type, start.performed_by_name) == ("customer", "Pat")
        assert ["queue", f"team:{team.id}"] in start.data
        assert log[1].data == [["external_key", "T-1"]]
        assert support_session.external_key == "T-1"

    db.call(work)


def test_taking_a_session_makes_the_rep_its_owner(db: Database) -> None:
    def work(session: Session) -> None:
        team = directory.add_team(session, "Desk")
        alice = rep(session, "alice", team=team)
        connection = logged_in(session, alice)
        support_session = customer_session(session, resolve_queue(session, f"team:{team.id}"))
        engine.take_session(session, support_session, connection, alice)
        assert support_session.status == "active"
        assert support_session.owner_gsnumber == connection.gsnumber
        assert support_session.last_owner_user_id == alice.id
        added, owner = events(session, support_session)[-2:]
        assert added.event_type == "Conference Member Added"
        assert [name for name, _ in added.data] == [
            "name",
            "username",
            "private_ip",
            "public_ip",
            "embassies",
            "hostname",
            "os",
            "support_teams",
            "user_id",
        ]
        assert dict(added.data)["support_teams"] == "Desk"
        assert dict(added.data)["user_id"] == str(alice.id)
        assert (owner.event_type, owner.destination_gsnumber) == ("Conference Owner Changed", connection.gsnumber)

    db.call(work)


def test_a_rep_may_take_only_from_queues_they_belong_to(db: Database) -> None:
    def work(session: Session) -> None:
        desk = directory.add_team(session, "Desk")
        other = directory.add_team(session, "Other")
        bob = rep(session, "bob", team=other)
        connection = logged_in(session, bob)
        support_session = customer_session(session, resolve_queue(session, f"team:{desk.id}"))
        with pytest.raises(engine.SessionError, match="may not take"):
            engine.take_session(session, support_session, connection, bob)
        general = customer_session(session, GENERAL)
        engine.take_session(session, general, connection, bob)

    db.call(work)


def test_a_conference_member_joins_and_leaves_without_taking_ownership(db: Database) -> None:
    def work(session: Session) -> None:
        alice, bob = rep(session, "alice"), rep(session, "bob")
        a, b = logged_in(session, alice), logged_in(session, bob)
        support_session = customer_session(session, GENERAL)
        engine.take_session(session, support_session, a, alice)
        engine.join_session(session, support_session, b, bob)
        assert support_session.owner_gsnumber == a.gsnumber
        with pytest.raises(engine.SessionError, match="already in this session"):
            engine.join_session(session, support_session, b, bob)
        engine.leave_session(session, support_session, b, bob)
        assert support_session.owner_gsnumber == a.gsnumber
        assert types(session, support_session)[-2:] == ["Conference Member Added", "Conference Member Departed"]
        row = session.scalars(select(SessionParticipant).where(SessionParticipant.gsnumber == b.gsnumber)).one()
        assert row.joined_at is None and not row.session_owner

    db.call(work)


def test_an_owner_who_leaves_hands_the_session_to_the_remaining_member(db: Database) -> None:
    def work(session: Session) -> None:
        alice, bob = rep(session, "alice"), rep(session, "bob")
        a, b = logged_in(session, alice), logged_in(session, bob)
        support_session = customer_session(session, GENERAL)
        engine.take_session(session, support_session, a, alice)
        engine.join_session(session, support_session, b, bob)
        engine.leave_session(session, support_session, a, alice)
        assert support_session.owner_gsnumber == b.gsnumber
        assert support_session.last_owner_user_id == bob.id
        assert types(session, support_session)[-2:] == ["Conference Member Departed", "Conference Owner Changed"]

    db.call(work)


def test_an_owner_lost_with_nobody_left_sends_the_session_back_to_its_team_queue(db: Database) -> None:
    def work(session: Session) -> None:
        team = directory.add_team(session, "Desk")
        alice = rep(session, "alice", team=team)
        a = logged_in(session, alice)
        support_session = customer_session(session, resolve_queue(session, f"team:{team.id}"))
        engine.take_session(session, support_session, a, alice)
        connections.disconnect(session, a)
        assert support_session.status == "waiting"
        assert (support_session.queue_kind, support_session.queue_ref_id) == ("team", team.id)
        assert types(session, support_session)[-2:] == ["Conference Member Departed", "Session Transferred to Queue"]

    db.call(work)


def test_a_transfer_moves_the_session_and_its_owner_leaves(db: Database) -> None:
    def work(session: Session) -> None:
        desk, other = directory.add_team(session, "Desk"), directory.add_team(session, "Other")
        alice = rep(session, "alice", team=desk)
        bob = rep(session, "bob", team=other)
        a = logged_in(session, alice)
        b = logged_in(session, bob)
        support_session = customer_session(session, resolve_queue(session, f"team:{desk.id}"))
        engine.take_session(session, support_session, a, alice)
        engine.transfer_session(session, support_session, Queue(QueueKind.TEAM, other.id, "Other"), SYSTEM)
        assert (support_session.status, support_session.queue_ref_id, support_session.owner_gsnumber) == (
            "waiting",
            other.id,
            None,
        )
        assert support_session.primary_team_id == other.id
        teams = set(session.scalars(select(SessionTeam.team_id).where(SessionTeam.session_id == support_session.id)))
        assert teams == {desk.id, other.id}
        departed, moved = events(session, support_session)[-2:]
        assert departed.event_type == "Conference Member Departed" and departed.destination_gsnumber == a.gsnumber
        assert moved.event_type == "Session Transferred to Queue"
        assert dict(moved.data) == {"queue": f"team:{other.id}", "queue_type": "team", "queue_name": "Other"}
        engine.take_session(session, support_session, b, bob)
        engine.transfer_session(session, support_session, rep_queue(alice), SYSTEM)
        last = events(session, support_session)[-1]
        assert (last.destination_type, last.destination_gsnumber, last.destination_name) == (
            "representative",
            a.gsnumber,
            "Alice",
        )

    db.call(work)


def test_attributes_are_set_changed_and_cleared_in_one_external_key_event(db: Database) -> None:
    def work(session: Session) -> None:
        directory.add_custom_attribute(session, "ticket_system", "Ticket system")
        support_session = customer_session(session, GENERAL)
        assert engine.set_attributes(session, support_session, {"external_key": "A-1", "ticket_system": "jira"}, SYSTEM)
        assert not engine.set_attributes(
            session, support_session, {"external_key": "A-1", "ticket_system": None}, SYSTEM
        )
        assert engine.set_attributes(session, support_session, {"ticket_system": ""}, SYSTEM)
        log = events(session, support_session)
        assert [e.event_type for e in log] == ["Session Start", "External Key", "External Key"]
        assert log[1].data == [["external_key", "A-1"], ["ticket_system", "jira"]]
        assert log[1].body == "A-1"
        assert log[2].data == [["ticket_system", ""]] and log[2].body is None

    db.call(work)


def test_ending_counts_everyone_out_once_and_nothing_changes_an_ended_session(db: Database) -> None:
    def work(session: Session) -> None:
        alice = rep(session, "alice")
        a = logged_in(session, alice)
        support_session = customer_session(session, GENERAL)
        engine.take_session(session, support_session, a, alice)
        ten_minutes_ago = support_session.start_time - timedelta(minutes=10)
        session.execute(update(SessionParticipant).values(joined_at=ten_minutes_ago))
        engine.end_session(session, support_session, SYSTEM, reason="terminated")
        assert support_session.status == "ended" and support_session.end_time is not None
        rows = session.scalars(select(SessionParticipant).where(SessionParticipant.session_id == support_session.id))
        assert all(600 <= row.seconds_involved <= 605 and row.joined_at is None for row in rows)
        assert events(session, support_session)[-1].data == [["reason", "terminated"]]
        for change in (
            lambda: engine.end_session(session, support_session, SYSTEM),
            lambda: engine.transfer_session(session, support_session, GENERAL, SYSTEM),
            lambda: engine.join_session(session, support_session, a, alice),
            lambda: engine.set_attributes(session, support_session, {"external_key": "x"}, SYSTEM),
        ):
            with pytest.raises(engine.SessionError, match="already ended"):
                change()

    db.call(work)


def test_a_customer_gone_for_good_ends_the_session_abnormally(db: Database) -> None:
    def work(session: Session) -> None:
        support_session = customer_session(session, GENERAL)
        customer = session.scalars(
            select(ClientConnection).where(ClientConnection.session_id == support_session.id)
        ).one()
        connections.disconnect(session, customer)
        assert support_session.status == "ended" and support_session.closed_abnormally

    db.call(work)


def test_events_leave_only_after_commit_and_never_after_a_rollback(db: Database, live_events: list[object]) -> None:
    lsid = db.call(lambda s: customer_session(s, GENERAL).lsid)
    added = [e for e in live_events if isinstance(e, SessionEventAdded)]
    assert [(e.lsid, e.event["type"]) for e in added] == [(lsid, "Session Start")]
    [state] = [e for e in live_events if isinstance(e, SessionState)]
    assert (state.lsid, state.state["status"], state.state["queue"]["kind"]) == (lsid, "waiting", "general")
    live_events.clear()
    with pytest.raises(RuntimeError), db.transaction() as session:
        customer_session(session, GENERAL)
        raise RuntimeError("the transaction fails")
    assert live_events == []


def test_presence_changes_bump_the_presence_stamp(db: Database, live_events: list[object]) -> None:
    db.call(lambda s: logged_in(s, rep(s, "alice")))
    assert any(isinstance(e, StampBumped) and e.name == "presence" for e in live_events)
