"""Signing in with a username and password, the same at every door (the /login pages, the
representative console, the XML APIs): lockout after wrong passwords in a row, password
expiry, and the "must choose a new password" flag.

The password is verified in a read (an argon2 hash costs about 20 ms, which must not hold
the single writer); only the outcome is written: a failure counted, or the count cleared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.directory import actions
from lifeline.directory.models import User
from lifeline.directory.passwords import verify_password


@dataclass(frozen=True)
class LoginPolicy:
    lockout_attempts: int = 10  # wrong passwords in a row that lock an account; 0: never
    lockout_minutes: int = 15
    password_max_age_days: int = 0  # 0: passwords do not expire

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> LoginPolicy:
        return cls(
            lockout_attempts=int(settings["login_lockout_attempts"]),
            lockout_minutes=int(settings["login_lockout_minutes"]),
            password_max_age_days=int(settings["password_max_age_days"]),
        )


class Outcome(enum.Enum):
    SIGNED_IN = "signed in"
    WRONG = "wrong username or password"  # also: no such user
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class LoginCheck:
    outcome: Outcome
    user: User | None = None  # set when the password was right
    user_id: int | None = None  # the account the username names, if any
    failed_before: int = 0
    password_change_due: bool = False  # signed in, but must choose a new password first


def is_locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def password_expires_at(user: User, policy: LoginPolicy) -> datetime | None:
    if policy.password_max_age_days <= 0 or user.password_never_expires:
        return None
    return user.password_changed_at + timedelta(days=policy.password_max_age_days)


def password_change_due(user: User, policy: LoginPolicy, now: datetime | None = None) -> bool:
    expires = password_expires_at(user, policy)
    return user.must_change_password or (expires is not None and expires <= (now or utcnow()))


def check_password(session: Session, username: str, password: str, policy: LoginPolicy) -> LoginCheck:
    """Read-only: what a sign-in with these credentials comes to."""
    user = actions.find_user(session, username)
    right = verify_password(user.password_hash if user else None, password)  # as slow for unknown names
    if user is None:
        return LoginCheck(Outcome.WRONG)
    if is_locked(user):
        return LoginCheck(Outcome.LOCKED, user_id=user.id)
    if not right:
        return LoginCheck(Outcome.WRONG, user_id=user.id, failed_before=user.failed_logins)
    if not user.enabled:
        return LoginCheck(Outcome.DISABLED, user_id=user.id)
    return LoginCheck(
        Outcome.SIGNED_IN,
        user=user,
        user_id=user.id,
        failed_before=user.failed_logins,
        password_change_due=password_change_due(user, policy),
    )


async def attempt_login(db: Database, username: str, password: str, policy: LoginPolicy) -> LoginCheck:
    """Check the credentials, then write down what the lockout needs to know."""
    check = await db.read(check_password, username, password, policy)
    if check.outcome is Outcome.WRONG and check.user_id is not None:
        locked = await db.write(
            actions.record_failed_login, check.user_id, policy.lockout_attempts, policy.lockout_minutes
        )
        if locked:
            return LoginCheck(Outcome.LOCKED, user_id=check.user_id)
    elif check.outcome is Outcome.SIGNED_IN and check.failed_before and check.user_id is not None:
        await db.write(actions.clear_failed_logins, check.user_id)
    return check
