"""Signing in with a username and password: lockout, expiry, the must-change flag, password rules."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.logins import LoginCheck, LoginPolicy, Outcome, attempt_login
from lifeline.directory.models import SignInWait, User

POLICY = LoginPolicy(free_attempts=3, longest_wait_minutes=15, password_max_age_days=0)
HOME = "192.0.2.10"
ELSEWHERE = "198.51.100.7"


def make_user(db: Database, username: str = "alice", **changes: object) -> int:
    def add(session: Session) -> int:
        user = directory.add_user(session, username, "alice-password", directory.UserChanges(**changes))  # type: ignore[arg-type]
        return user.id

    return db.call(add)


def attempt(
    db: Database, password: str, policy: LoginPolicy = POLICY, username: str = "alice", address: str = HOME
) -> LoginCheck:
    return asyncio.run(attempt_login(db, username, password, policy, address))


def user(db: Database, user_id: int) -> User:
    found = db.call(lambda session: session.get(User, user_id))
    assert found is not None
    return found


def wait_of(db: Database, address: str = HOME, account: str = "alice") -> SignInWait:
    found = db.call(lambda session: session.get(SignInWait, (account, address)))
    assert found is not None
    return found


def end_the_wait(db: Database, address: str = HOME, account: str = "alice") -> None:
    """As if the wait had passed."""
    db.call(
        lambda session: session.execute(
            update(SignInWait)
            .where(SignInWait.account == account, SignInWait.address == address)
            .values(wait_until=utcnow() - timedelta(seconds=1))
        )
    )


def test_a_right_password_signs_in(db: Database) -> None:
    user_id = make_user(db)
    check = attempt(db, "alice-password")
    assert check.outcome is Outcome.SIGNED_IN
    assert check.user is not None
    assert check.user.id == user_id
    assert not check.password_change_due


def test_usernames_are_matched_regardless_of_case_and_unknown_ones_are_just_wrong(db: Database) -> None:
    make_user(db)
    assert attempt(db, "alice-password", username="ALICE").outcome is Outcome.SIGNED_IN
    assert attempt(db, "alice-password", username="nobody").outcome is Outcome.WRONG


def test_beyond_the_free_wrong_passwords_the_next_attempt_waits_unchecked(db: Database) -> None:
    user_id = make_user(db)
    for n in range(4):  # three free, the fourth earns a wait of a second
        assert attempt(db, f"wrong-{n}").outcome is Outcome.WRONG
    assert user(db, user_id).failed_logins == 4
    refused = attempt(db, "alice-password")  # even the right one is not checked now
    assert refused.outcome is Outcome.WAIT
    assert refused.wait_until is not None
    assert utcnow() < refused.wait_until <= utcnow() + timedelta(seconds=1)
    assert wait_of(db).failures == 4  # a refused attempt is not counted


def test_a_burst_sent_at_once_gets_no_more_checks_than_one_by_one(db: Database) -> None:
    """The report's attack: wrong passwords sent together. Each is counted before it is
    checked, so only the free ones and the one that starts the wait are checked."""
    make_user(db)

    async def burst() -> list[LoginCheck]:
        return await asyncio.gather(*(attempt_login(db, "alice", f"guess-{n}", POLICY, HOME) for n in range(20)))

    outcomes = [check.outcome for check in asyncio.run(burst())]
    assert outcomes.count(Outcome.WRONG) == 4
    assert outcomes.count(Outcome.WAIT) == 16


def test_each_wrong_password_doubles_the_wait_up_to_the_longest(db: Database) -> None:
    make_user(db)
    for n in range(3):
        attempt(db, f"wrong-{n}")
    waits = []
    for n in range(14):
        end_the_wait(db)
        before = utcnow()
        assert attempt(db, f"again-{n}").outcome is Outcome.WRONG
        wait_until = wait_of(db).wait_until
        assert wait_until is not None
        waits.append(round((wait_until - before).total_seconds()))
    assert waits[:11] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    assert waits[11:] == [900, 900, 900]  # 15 minutes at most


def test_the_owner_at_another_address_is_not_slowed_and_the_account_never_locks(db: Database) -> None:
    user_id = make_user(db)
    for n in range(4):
        attempt(db, f"wrong-{n}")
    assert attempt(db, "alice-password").outcome is Outcome.WAIT
    assert attempt(db, "alice-password", address=ELSEWHERE).outcome is Outcome.SIGNED_IN
    assert attempt(db, "alice-password").outcome is Outcome.WAIT  # the other address's success is not this one's
    assert user(db, user_id).locked_until is not None  # shown to admins: some address waits


@pytest.mark.parametrize("username", ["al\x00ice", "\ud800", "a" * 65])
def test_names_no_database_stores_are_just_wrong(db: Database, username: str) -> None:
    make_user(db)
    assert attempt(db, "alice-password", username=username, address="f" * 100).outcome is Outcome.WRONG


def test_unknown_names_are_slowed_the_same_way(db: Database) -> None:
    for n in range(4):
        assert attempt(db, f"wrong-{n}", username="nobody").outcome is Outcome.WRONG
    assert attempt(db, "whatever", username="NOBODY").outcome is Outcome.WAIT


def test_wrong_passwords_leave_the_directory_stamp_alone(db: Database) -> None:
    """Nothing that caches the directory (the APIs' remembered credentials) is dropped."""
    make_user(db)
    before = db.call(stamps.read_all)[stamps.DIRECTORY]
    for n in range(6):
        attempt(db, f"wrong-{n}")
    assert db.call(stamps.read_all)[stamps.DIRECTORY] == before


def test_a_right_password_ends_the_count_at_that_address(db: Database) -> None:
    user_id = make_user(db)
    attempt(db, "wrong-1")
    attempt(db, "wrong-2")
    attempt(db, "wrong-3", address=ELSEWHERE)
    assert attempt(db, "alice-password").outcome is Outcome.SIGNED_IN
    assert db.call(lambda session: session.get(SignInWait, ("alice", HOME))) is None
    assert wait_of(db, ELSEWHERE).failures == 1
    assert user(db, user_id).failed_logins == 0
    for n in range(3):
        assert attempt(db, f"wrong-{n}").outcome is Outcome.WRONG
    assert attempt(db, "alice-password").outcome is Outcome.SIGNED_IN


def test_an_admin_ends_the_waits_at_every_address(db: Database) -> None:
    user_id = make_user(db)
    for address in (HOME, ELSEWHERE):
        for n in range(4):
            attempt(db, f"wrong-{n}", address=address)

    def unlock(session: Session) -> None:
        found = session.get(User, user_id)
        assert found is not None
        directory.unlock_user(session, found)

    db.call(unlock)
    assert user(db, user_id).locked_until is None
    assert attempt(db, "alice-password").outcome is Outcome.SIGNED_IN
    assert attempt(db, "alice-password", address=ELSEWHERE).outcome is Outcome.SIGNED_IN


def test_no_waits_when_the_setting_is_zero(db: Database) -> None:
    make_user(db)
    never = LoginPolicy(free_attempts=0)
    for n in range(12):
        assert attempt(db, f"wrong-{n}", never).outcome is Outcome.WRONG
    assert attempt(db, "alice-password", never).outcome is Outcome.SIGNED_IN


def test_a_disabled_account_does_not_sign_in(db: Database) -> None:
    make_user(db, enabled=False)
    assert attempt(db, "alice-password").outcome is Outcome.DISABLED


def test_an_expired_password_must_be_changed_unless_it_never_expires(db: Database) -> None:
    old = make_user(db, "old")
    never = make_user(db, "never", password_never_expires=True)

    def age(session: Session) -> None:
        for user_id in (old, never):
            found = session.get(User, user_id)
            assert found is not None
            found.password_changed_at = utcnow() - timedelta(days=91)

    db.call(age)
    ninety = LoginPolicy(password_max_age_days=90)
    assert attempt(db, "alice-password", ninety, "old").password_change_due
    assert not attempt(db, "alice-password", ninety, "never").password_change_due
    assert not attempt(db, "alice-password", LoginPolicy(), "old").password_change_due


def test_a_password_set_by_an_admin_can_be_required_to_change(db: Database) -> None:
    user_id = make_user(db)

    def reset(session: Session, must_change: bool) -> None:
        found = session.get(User, user_id)
        assert found is not None
        directory.set_password(session, found, "temporary-password", must_change=must_change)

    db.call(reset, True)
    assert attempt(db, "temporary-password").password_change_due
    db.call(reset, False)
    assert not attempt(db, "temporary-password").password_change_due


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8 characters"),
        ("x" * 257, "at most 256 characters"),
        ("Alice.Smith", "must not be the username"),
        ("htimS.ecilA", "must not be the username"),
        ("aaaaaaaaaaaa", "one character repeated"),
    ],
)
def test_password_rules(db: Database, password: str, problem: str) -> None:
    with pytest.raises(directory.DirectoryError, match=problem):
        db.call(lambda session: directory.add_user(session, "alice.smith", password))


def test_the_last_enabled_administrator_stays_one(db: Database) -> None:
    def demote(session: Session, changes: directory.UserChanges) -> None:
        admin = directory.find_user(session, "admin")
        assert admin is not None
        directory.update_user(session, admin, changes)

    with pytest.raises(directory.DirectoryError, match="at least one enabled administrator"):
        db.call(demote, directory.UserChanges(perm_admin=False))
    with pytest.raises(directory.DirectoryError, match="at least one enabled administrator"):
        db.call(demote, directory.UserChanges(enabled=False))
    make_user(db, "second", perm_admin=True)
    db.call(demote, directory.UserChanges(perm_admin=False))


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="SQLite has one writer: nothing comes between")
def test_a_count_ended_by_another_sign_in_mid_attempt_is_begun_again(db: Database) -> None:
    """On PostgreSQL a right password's forget_sign_in_failures can commit between the
    attempt's insert (which found the row and did nothing) and its select: the attempt used
    to find no row and fail as an internal error (an integration's first calls at once)."""
    make_user(db)
    assert attempt(db, "wrong-password").outcome is Outcome.WRONG  # the count's row exists
    fired: list[str] = []

    def forget_in_between(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and "FOR UPDATE" in statement and "sign_in_waits" in statement:
            fired.append(statement)
            db.call(directory.forget_sign_in_failures, "alice", HOME)  # another transaction, committed

    event.listen(db.engine, "before_cursor_execute", forget_in_between)
    try:
        waited = db.call(directory.begin_sign_in_attempt, "alice", HOME, POLICY.free_attempts, timedelta(minutes=15))
    finally:
        event.remove(db.engine, "before_cursor_execute", forget_in_between)
    assert fired and waited is None
    rows = db.call(lambda session: [(w.account, w.failures) for w in session.scalars(select(SignInWait))])
    assert rows == [("alice", 1)]  # counted once, afresh
