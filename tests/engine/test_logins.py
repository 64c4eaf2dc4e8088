"""Signing in with a username and password: lockout, expiry, the must-change flag, password rules."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.logins import LoginCheck, LoginPolicy, Outcome, attempt_login
from lifeline.directory.models import User

POLICY = LoginPolicy(lockout_attempts=3, lockout_minutes=15, password_max_age_days=0)


def make_user(db: Database, username: str = "alice", **changes: object) -> int:
    def add(session: Session) -> int:
        user = directory.add_user(session, username, "alice-password", directory.UserChanges(**changes))  # type: ignore[arg-type]
        return user.id

    return db.call(add)


def attempt(db: Database, password: str, policy: LoginPolicy = POLICY, username: str = "alice") -> LoginCheck:
    return asyncio.run(attempt_login(db, username, password, policy))


def user(db: Database, user_id: int) -> User:
    found = db.call(lambda session: session.get(User, user_id))
    assert found is not None
    return found


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


def test_wrong_passwords_in_a_row_lock_the_account_even_against_the_right_one(db: Database) -> None:
    user_id = make_user(db)
    assert attempt(db, "wrong-1").outcome is Outcome.WRONG
    assert attempt(db, "wrong-2").outcome is Outcome.WRONG
    assert user(db, user_id).failed_logins == 2
    assert attempt(db, "wrong-3").outcome is Outcome.LOCKED
    locked = user(db, user_id)
    assert locked.locked_until is not None
    assert locked.locked_until > utcnow() + timedelta(minutes=14)
    assert attempt(db, "alice-password").outcome is Outcome.LOCKED


def test_locking_drops_what_the_apis_remember(db: Database) -> None:
    make_user(db)
    before = db.call(stamps.read_all)[stamps.DIRECTORY]
    for n in range(3):
        attempt(db, f"wrong-{n}")
    assert db.call(stamps.read_all)[stamps.DIRECTORY] == before + 1  # the lock, not every failure


def test_a_right_password_starts_the_count_again(db: Database) -> None:
    user_id = make_user(db)
    attempt(db, "wrong-1")
    attempt(db, "wrong-2")
    assert attempt(db, "alice-password").outcome is Outcome.SIGNED_IN
    assert user(db, user_id).failed_logins == 0
    attempt(db, "wrong-3")
    assert attempt(db, "alice-password").outcome is Outcome.SIGNED_IN


def test_an_admin_unlocks_an_account(db: Database) -> None:
    user_id = make_user(db)
    for n in range(3):
        attempt(db, f"wrong-{n}")

    def unlock(session: Session) -> None:
        found = session.get(User, user_id)
        assert found is not None
        directory.unlock_user(session, found)

    db.call(unlock)
    assert attempt(db, "alice-password").outcome is Outcome.SIGNED_IN


def test_a_lock_ends_by_itself(db: Database) -> None:
    user_id = make_user(db)

    def lapsed(session: Session) -> None:
        found = session.get(User, user_id)
        assert found is not None
        found.locked_until = utcnow() - timedelta(seconds=1)

    db.call(lapsed)
    assert attempt(db, "alice-password").outcome is Outcome.SIGNED_IN


def test_no_lockout_when_the_setting_is_zero(db: Database) -> None:
    make_user(db)
    never = LoginPolicy(lockout_attempts=0)
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
