"""Queue names as the APIs give them, resolved against the directory."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.sessions.queues import QueueError, QueueKind, queues_of, resolve_queue
from tests.engine.helpers import rep


def setup(session: Session) -> dict[str, int]:
    team = directory.add_team(session, "Desk")
    embassy = directory.add_team(session, "Partner", embassy=True)
    issue = directory.add_issue(session, team, "Printer trouble", code_name="printers")
    alice = rep(session, "alice", team=team)
    return {"team": team.id, "embassy": embassy.id, "issue": issue.id, "alice": alice.id}


def test_it_resolves_every_queue_form(db: Database) -> None:
    ids = db.call(setup)

    def check(session: Session) -> None:
        assert resolve_queue(session, "general").kind is QueueKind.GENERAL
        assert resolve_queue(session, f"rep:{ids['alice']}").ref_id == ids["alice"]
        assert resolve_queue(session, "rep_username:ALICE").ref_id == ids["alice"]
        team = resolve_queue(session, f"team:{ids['team']}")
        assert (team.kind, team.ref_id, team.name) == (QueueKind.TEAM, ids["team"], "Desk")
        assert resolve_queue(session, f"embassy:{ids['embassy']}").kind is QueueKind.EMBASSY
        issue = resolve_queue(session, "issue:printers")
        assert (issue.kind, issue.ref_id, issue.issue_code) == (QueueKind.TEAM, ids["team"], "printers")

    db.call(check)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("rep:999", "No representative has the ID 999"),
        ("rep_username:nobody", "No single representative has the username 'nobody'"),
        ("team:999", "No support team has the ID 999"),
        ("rep:abc", "the rep ID must be a positive integer ID"),
        ("rep:0", "the rep ID must be a positive integer ID"),
        ("issue:nope", "No issue has the code name 'nope'"),
        ("somewhere", "queue_id must be general"),
        ("team:", "queue_id must be general"),
    ],
)
def test_it_refuses_queues_that_do_not_exist(db: Database, spec: str, message: str) -> None:
    db.call(setup)
    with pytest.raises(QueueError, match=message):
        db.call(resolve_queue, spec)


def test_a_team_is_not_an_embassy_nor_the_other_way_round(db: Database) -> None:
    ids = db.call(setup)
    with pytest.raises(QueueError, match="No Embassy has the ID"):
        db.call(resolve_queue, f"embassy:{ids['team']}")
    with pytest.raises(QueueError, match="No support team has the ID"):
        db.call(resolve_queue, f"team:{ids['embassy']}")


def test_a_rep_who_may_not_give_support_has_no_queue(db: Database) -> None:
    user_id = db.call(lambda s: directory.add_user(s, "viewer", "viewer-password").id)
    with pytest.raises(QueueError, match="not allowed to provide remote support"):
        db.call(resolve_queue, f"rep:{user_id}")


def test_a_rep_takes_from_their_own_queue_their_teams_and_embassies_and_general_if_allowed(db: Database) -> None:
    def check(session: Session) -> None:
        team = directory.add_team(session, "Desk")
        embassy = directory.add_team(session, "Partner", embassy=True)
        directory.add_team(session, "Elsewhere")
        alice = rep(session, "alice", team=team, perm_general_queue=True)
        directory.add_team_member(session, embassy, alice)
        bob = rep(session, "bob", perm_general_queue=False)
        assert [q.spec for q in queues_of(session, alice)] == [
            f"rep:{alice.id}",
            f"team:{team.id}",
            f"embassy:{embassy.id}",
            "general",
        ]
        assert [q.spec for q in queues_of(session, bob)] == [f"rep:{bob.id}"]

    db.call(check)
