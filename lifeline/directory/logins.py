"""Signing in with a username and password, the same at every door (the /login pages, the
representative console, the XML APIs): waits after wrong passwords, password expiry, and
the "must choose a new password" flag.

Wrong passwords are counted per sign-in name and client address, in the database, so
every appliance process sees them. The first `free_attempts` cost nothing; beyond them,
each makes the next attempt for that name from that address wait twice as long (1 s,
2 s, 4 s ... up to `longest_wait`), and an attempt made during a wait is refused without
checking the password. A right password from an address ends its count. The account is
never locked for everyone: the owner at another address, their signed-in browsers and
the API's remembered credentials and tokens keep working.

The password is verified in a read (an argon2 hash costs about 20 ms, which must not hold
the single writer); the attempt is counted by a short write before it.
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

USERNAME_MAX = 64  # the users table's: a longer name names nobody
ADDRESS_MAX = 64  # sign_in_waits.address: an IPv6 address with a zone fits


@dataclass(frozen=True)
class LoginPolicy:
    free_attempts: int = 10  # wrong passwords per name and address before waits begin; 0: never wait
    longest_wait_minutes: int = 15
    password_max_age_days: int = 0  # 0: passwords do not expire

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> LoginPolicy:
        return cls(
            free_attempts=int(settings["login_lockout_attempts"]),
            longest_wait_minutes=int(settings["login_lockout_minutes"]),
            password_max_age_days=int(settings["password_max_age_days"]),
        )


class Outcome(enum.Enum):
    SIGNED_IN = "signed in"
    WRONG = "wrong username or password"  # also: no such user
    WAIT = "wait"  # too many wrong passwords for this name from this address: not checked
    DISABLED = "disabled"


@dataclass(frozen=True)
class LoginCheck:
    outcome: Outcome
    user: User | None = None  # set when the password was right
    user_id: int | None = None  # the account the username names, if any
    password_change_due: bool = False  # signed in, but must choose a new password first
    wait_until: datetime | None = None  # Outcome.WAIT: when the next attempt will be checked


def is_locked(user: User, now: datetime | None = None) -> bool:
    """Some address must wait before its next attempt for this account."""
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
    if not right:
        return LoginCheck(Outcome.WRONG, user_id=user.id)
    if not user.enabled:
        return LoginCheck(Outcome.DISABLED, user_id=user.id)
    return LoginCheck(
        Outcome.SIGNED_IN, user=user, user_id=user.id, password_change_due=password_change_due(user, policy)
    )


async def attempt_login(db: Database, username: str, password: str, policy: LoginPolicy, address: str) -> LoginCheck:
    """Count the attempt for this name at `address` (or refuse it while a wait lasts), then
    check the credentials; a right password ends the count at that address."""
    account = username.lower()
    if len(account) > USERNAME_MAX:
        return LoginCheck(Outcome.WRONG)
    address = address[:ADDRESS_MAX]
    if policy.free_attempts > 0:
        longest = timedelta(minutes=policy.longest_wait_minutes)
        wait_until = await db.write(actions.begin_sign_in_attempt, account, address, policy.free_attempts, longest)
        if wait_until is not None:
            return LoginCheck(Outcome.WAIT, wait_until=wait_until)
    check = await db.read(check_password, username, password, policy)
    if check.outcome is Outcome.SIGNED_IN and policy.free_attempts > 0:
        await db.write(actions.forget_sign_in_failures, account, address)
    return check
