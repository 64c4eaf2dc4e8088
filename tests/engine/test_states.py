"""Session and connection states: the moves each lifecycle allows, and the ones it refuses
with a domain error (a session cannot wait twice; nothing that ended comes back)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.presence.models import ClientConnection, ConnectionState, PresenceError, connection_move_problem
from lifeline.sessions import actions as engine
from lifeline.sessions import connections
from lifeline.sessions.events import SYSTEM
from lifeline.sessions.models import SessionError, SessionStatus, SupportSession, session_move_problem
from lifeline.sessions.queues import GENERAL, resolve_queue
from tests.engine.helpers import customer_session, logged_in, rep

WAITING, ACTIVE, ENDED = SessionStatus.WAITING, SessionStatus.ACTIVE, SessionStatus.ENDED
CONNECTED, RECONNECTING, GONE = ConnectionState.CONNECTED, ConnectionState.RECONNECTING, ConnectionState.GONE

SESSION_MOVES = {(WAITING, ACTIVE), (WAITING, ENDED), (ACTIVE, WAITING), (ACTIVE, ENDED)}
CONNECTION_MOVES = {(CONNECTED, RECONNECTING), (CONNECTED, GONE), (RECONNECTING, CONNECTED), (RECONNECTING, GONE)}


def test_the_stored_values_are_todays_strings() -> None:
    assert [s.value for s in SessionStatus] == ["waiting", "active", "ended"]
    assert [s.value for s in ConnectionState] == ["connected", "reconnecting", "gone"]


@pytest.mark.parametrize(("current", "to"), sorted(SESSION_MOVES))
def test_a_session_may_make_these_moves(current: SessionStatus, to: SessionStatus) -> None:
    support_session = SupportSession(status=current.value)
    support_session.move_to(to)
    assert support_session.status == to.value and support_session.state is to


@pytest.mark.parametrize(
    ("current", "to"), sorted(set(itertools.product(SessionStatus, SessionStatus)) - SESSION_MOVES)
)
def test_a_session_refuses_every_other_move(current: SessionStatus, to: SessionStatus) -> None:
    support_session = SupportSession(status=current.value)
    with pytest.raises(SessionError) as refused:
        support_session.move_to(to)
    assert support_session.status == current.value
    assert str(refused.value) == session_move_problem(current, to)


def test_the_refusals_say_why() -> None:
    assert session_move_problem(WAITING, WAITING) == "The session is already waiting in a queue"
    assert session_move_problem(ACTIVE, ACTIVE) == "The session already has an owner"
    assert session_move_problem(ENDED, WAITING) == "The session has already ended"
    assert session_move_problem(ENDED, ENDED) == "The session has already ended"
    assert connection_move_problem(GONE, CONNECTED) == "The connection is over"
    assert connection_move_problem(CONNECTED, CONNECTED) == "The connection is already connected"


@pytest.mark.parametrize(("current", "to"), sorted(CONNECTION_MOVES))
def test_a_connection_may_make_these_moves(current: ConnectionState, to: ConnectionState) -> None:
    connection = _connection_in(current)
    connection.move_to(to)
    assert connection.state is to


@pytest.mark.parametrize(
    ("current", "to"), sorted(set(itertools.product(ConnectionState, ConnectionState)) - CONNECTION_MOVES)
)
def test_a_connection_refuses_every_other_move(current: ConnectionState, to: ConnectionState) -> None:
    connection = _connection_in(current)
    with pytest.raises(PresenceError):
        connection.move_to(to)
    assert connection.state is current


def _connection_in(state: ConnectionState) -> ClientConnection:
    connection = ClientConnection(away_since=None, disconnected_at=None)
    if state is not CONNECTED:
        connection.move_to(state)
    return connection


def test_a_gone_connection_keeps_when_it_went_away() -> None:
    connection = _connection_in(RECONNECTING)
    away = connection.away_since
    connection.move_to(GONE)
    assert connection.away_since == away and connection.disconnected_at is not None


def test_moving_between_queues_or_owners_is_not_a_change_of_status(db: Database) -> None:
    def work(session: Session) -> None:
        team = directory.add_team(session, "Desk")
        alice, bob = rep(session, "alice", team=team), rep(session, "bob", team=team)
        support_session = customer_session(session, GENERAL)
        engine.transfer_session(session, support_session, resolve_queue(session, f"team:{team.id}"), SYSTEM)
        assert support_session.state is WAITING and support_session.queue_kind == "team"
        alice_connection, bob_connection = logged_in(session, alice), logged_in(session, bob)
        engine.take_session(session, support_session, alice_connection, alice)
        engine.join_session(session, support_session, bob_connection, bob)
        engine.leave_session(session, support_session, alice_connection, alice)
        assert support_session.state is ACTIVE and support_session.owner_gsnumber == bob_connection.gsnumber
        engine.end_session(session, support_session, SYSTEM)
        assert support_session.state is ENDED
        with pytest.raises(SessionError, match="already ended"):
            engine.transfer_session(session, support_session, GENERAL, SYSTEM)
        with pytest.raises(SessionError, match="already ended"):
            support_session.move_to(WAITING)

    db.call(work)


def test_a_disconnected_connection_stays_gone(db: Database) -> None:
    def work(session: Session) -> None:
        connection = logged_in(session, rep(session, "alice"))
        connections.disconnect(session, connection)
        assert connection.state is GONE
        connections.disconnect(session, connection)  # a second disconnect is a no-op, as before
        with pytest.raises(PresenceError, match="over"):
            connection.move_to(CONNECTED)

    db.call(work)
