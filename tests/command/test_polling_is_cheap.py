"""get_logged_in_reps and get_support_teams under repeated polling: no database work per
call while nothing changes, and fresh answers as soon as something does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from lifeline.directory import actions as directory
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientInfo
from lifeline.runtime import STAMP_POLL_SECONDS
from tests.support.inprocess import InProcessAppliance, get, inprocess_appliance

CREDENTIALS = {"username": "poller", "password": "poller-password"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[InProcessAppliance]:
    with inprocess_appliance(tmp_path) as appliance:

        def provision(session: Session) -> None:
            directory.add_user(session, "poller", "poller-password", directory.UserChanges(perm_command_api=True))
            team = directory.add_team(session, "Desk")
            for n in range(5):
                member = directory.add_user(
                    session, f"rep{n}", "rep-password", directory.UserChanges(perm_support=True)
                )
                directory.add_team_member(session, team, member)
                presence.register_node(session, "poll-test", "tests")
                presence.rep_log_in(session, member, node_id="poll-test", info=ClientInfo())

        appliance.db.call(provision)
        yield appliance


def statements_during(appliance: InProcessAppliance, calls: int, *actions: dict[str, str]) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(appliance.db.engine, "before_cursor_execute", record)
    try:
        for _ in range(calls):
            for params in actions:
                response = get(appliance, "/api/command", **CREDENTIALS, **params)
                assert response.status_code == 200
                assert b"<error" not in response.content, response.text
    finally:
        event.remove(appliance.db.engine, "before_cursor_execute", record)
    # The background jobs (stamp poll, heartbeat, the scheduled backup's look, the freezer's
    # look at the event log, the look for customers who did not come back) run on their own
    # clock, not per call.
    background = (
        "change_stamps",
        "nodes",
        "backup_schedule",
        "max(session_events.id)",
        "sealed_session_details",
        "client_connections.away_since <",
    )
    return [s for s in seen if not any(mark in s for mark in background)]


def test_repeated_polling_does_no_database_work(served: InProcessAppliance) -> None:
    polls = ({"action": "get_logged_in_reps"}, {"action": "get_support_teams", "showmembers": "1"})
    statements_during(served, 1, *polls)  # the first answers are built and verified once
    assert statements_during(served, 50, *polls) == []


def test_a_change_is_answered_at_once_and_then_cached_again(served: InProcessAppliance) -> None:
    statements_during(served, 1, {"action": "get_logged_in_reps"})

    def log_in_one_more(session: Session) -> None:
        user = directory.add_user(session, "late", "late-password", directory.UserChanges(perm_support=True))
        presence.rep_log_in(session, user, node_id="poll-test", info=ClientInfo())

    served.db.call(log_in_one_more)
    response = get(served, "/api/command", **CREDENTIALS, action="get_logged_in_reps")
    assert response.text.count("<rep id=") == 6
    # The stamp poll notices the same change on its own clock (every STAMP_POLL_SECONDS,
    # later on a loaded machine) and has the caches built once more; after that, 20 polls
    # in a row are answered from the caches again.
    deadline = time.monotonic() + 10
    while statements_during(served, 20, {"action": "get_logged_in_reps"}):
        assert time.monotonic() < deadline, "polls still reach the database seconds after the change"
        time.sleep(STAMP_POLL_SECONDS)
