"""Connections, gsnumbers and logged-in representatives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from lifeline.appliance.models import Node
from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.presence import actions as presence
from lifeline.presence import queries
from lifeline.presence.actions import PresenceError
from lifeline.presence.models import ClientInfo
from lifeline.sessions import actions as engine
from lifeline.sessions import connections, duty
from lifeline.sessions.queues import GENERAL
from tests.engine.helpers import NODE, customer_session, logged_in, rep


def test_every_login_is_a_new_connection_with_its_own_gsnumber(db: Database) -> None:
    def work(session: Session) -> None:
        alice = rep(session, "alice")
        first, second = logged_in(session, alice), logged_in(session, alice)
        assert first.gsnumber != second.gsnumber and first.gsnumber > 0

    db.call(work)


def test_a_logged_in_rep_is_listed_once_with_the_earliest_login_and_session_count(db: Database) -> None:
    def work(session: Session) -> None:
        alice = rep(session, "alice", perm_show_on_rep_list=True)
        first = logged_in(session, alice)
        logged_in(session, alice)
        engine.take_session(session, customer_session(session, GENERAL), first, alice)
        [listed] = duty.logged_in_reps(session)
        assert (listed.id, listed.display_name, listed.kind) == (alice.id, "Alice", "Normal")
        assert listed.logged_in_since == first.connected_since
        assert listed.support_session_count == 1
        assert listed.showing_on_rep_list

    db.call(work)


def test_showing_on_the_rep_list_needs_the_permission_and_the_preference(db: Database) -> None:
    def work(session: Session) -> None:
        shown = rep(session, "shown", perm_show_on_rep_list=True)
        hidden = rep(session, "hidden", perm_show_on_rep_list=False)
        connection = logged_in(session, shown)
        logged_in(session, hidden)
        by_name = {r.username: r for r in duty.logged_in_reps(session)}
        assert by_name["shown"].showing_on_rep_list and not by_name["hidden"].showing_on_rep_list
        presence.set_showing_on_rep_list(session, connection, False)
        assert not {r.username: r for r in duty.logged_in_reps(session)}["shown"].showing_on_rep_list

    db.call(work)


def test_an_embassy_member_is_an_embassy_rep(db: Database) -> None:
    def work(session: Session) -> None:
        embassy = directory.add_team(session, "Partner", embassy=True)
        logged_in(session, rep(session, "erin", team=embassy))
        assert duty.logged_in_reps(session)[0].kind == "Embassy"

    db.call(work)


def test_logging_out_removes_the_rep(db: Database) -> None:
    def work(session: Session) -> None:
        connection = logged_in(session, rep(session, "alice"))
        connections.disconnect(session, connection)
        assert duty.logged_in_reps(session) == []

    db.call(work)


def test_reps_without_support_permission_or_disabled_cannot_log_in(db: Database) -> None:
    def work(session: Session) -> None:
        viewer = directory.add_user(session, "viewer", "viewer-password")
        with pytest.raises(PresenceError, match="not allowed to provide remote support"):
            presence.rep_log_in(session, viewer, node_id=NODE, info=ClientInfo())
        alice = rep(session, "alice")
        directory.update_user(session, alice, directory.UserChanges(enabled=False))
        with pytest.raises(PresenceError, match="disabled"):
            presence.rep_log_in(session, alice, node_id=NODE, info=ClientInfo())

    db.call(work)


def test_a_node_that_stops_heartbeating_is_found_and_its_connections_closed(db: Database) -> None:
    def work(session: Session) -> None:
        alice = rep(session, "alice")
        connection = logged_in(session, alice)
        engine.take_session(session, customer_session(session, GENERAL), connection, alice)
        session.execute(update(Node).values(last_seen=utcnow() - timedelta(minutes=5)))
        assert presence.dead_nodes(session) == [NODE]
        assert connections.close_node(session, NODE) == 2  # the rep and the customer
        assert duty.logged_in_reps(session) == []
        assert queries.connected_clients(session) == []

    db.call(work)


def test_connections_of_a_node_nobody_knows_are_found_too(db: Database) -> None:
    def work(session: Session) -> None:
        connection = logged_in(session, rep(session, "alice"))
        session.delete(session.get(Node, NODE))
        session.flush()
        assert presence.dead_nodes(session) == [NODE]
        connections.close_node(session, NODE)
        assert connection.disconnected_at is not None

    db.call(work)
