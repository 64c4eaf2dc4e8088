"""Who is calling: username and password parameters, or an OAuth bearer token.

Verifying a password costs an argon2 hash, so a verified credential is remembered
(keyed by a keyed hash of it, never the password) for as long as its user is unchanged in
what it decides: when the directory changes, one read checks the remembered users, and
only the credentials of a user whose password, permissions or standing changed are
forgotten. Polling integrations therefore cost a dictionary lookup per call, whatever
happens to other accounts.

Usernames and passwords go through the same sign-in rules as the /login pages
(`directory.logins`): wrong passwords make the next attempt for that name from that
address wait, and an attempt during a wait, a disabled account, or one whose password has
expired or must be changed answers `Login failed`. Unknown credentials from an address
with many recent failures (at any door: `Runtime.sign_in_failures`) are refused without
being checked; credentials already verified keep working.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.api.errors import ApiError
from lifeline.api.request import ApiRequest
from lifeline.appliance import stamps
from lifeline.db.base import utcnow
from lifeline.directory import queries as directory
from lifeline.directory.logins import LoginPolicy, Outcome, attempt_login, password_change_due
from lifeline.directory.models import User
from lifeline.directory.passwords import sha256_hex
from lifeline.directory.queries import Principal, principal_for_user
from lifeline.runtime import Runtime

BAD_CREDENTIALS = "Login failed"
BAD_TOKEN = "Invalid or expired access token"
NO_CREDENTIALS = "Missing credentials: send username and password, or an OAuth bearer token"

_CACHE_LIMIT = 10_000
_MAX_CREDENTIAL = 256


@dataclass(frozen=True)
class _Remembered:
    """A verified username and password: who it is, and what it was verified against."""

    principal: Principal
    password_changed_at: datetime


def _standing(user: User, policy: LoginPolicy) -> _Remembered | None:
    """What a remembered credential of `user` stands for now; None: it must not work."""
    if not user.enabled or password_change_due(user, policy):
        return None
    return _Remembered(principal_for_user(user), user.password_changed_at)


class Authenticator:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._key = secrets.token_bytes(32)
        self._generation = -1
        self._passwords: dict[bytes, _Remembered] = {}
        self._tokens: dict[str, tuple[Principal, datetime]] = {}

    async def _fresh(self) -> None:
        generation = self.runtime.generations[stamps.DIRECTORY]
        if len(self._passwords) + len(self._tokens) > _CACHE_LIMIT:
            self._passwords.clear()
            self._tokens.clear()
        if generation != self._generation:
            self._generation = generation
            self._tokens.clear()  # a token costs no hash to check again
            if self._passwords:
                await self._forget_changed_users()

    async def _forget_changed_users(self) -> None:
        """Something in the directory changed: forget only the credentials of users whose
        password, permissions or standing is no longer what they were verified with."""
        user_ids = {remembered.principal.id for remembered in self._passwords.values()}
        policy = LoginPolicy.from_settings(await self.runtime.settings())

        def now_standing(session: Session) -> dict[int, _Remembered | None]:
            users = session.scalars(select(User).where(User.id.in_(user_ids)))
            return {user.id: _standing(user, policy) for user in users}

        standing = await self.runtime.db.read(now_standing)
        for key, remembered in list(self._passwords.items()):
            if standing.get(remembered.principal.id) != remembered:
                self._passwords.pop(key, None)

    async def authenticate(self, request: ApiRequest) -> Principal:
        await self._fresh()
        auth = request.authorization
        if auth[:7].lower() == "bearer ":
            return await self._bearer(auth[7:].strip())
        username = request.params.get("username")
        password = request.params.get("password")
        if not username and not password:
            raise ApiError(NO_CREDENTIALS)
        if not username or not password or len(username) > _MAX_CREDENTIAL or len(password) > _MAX_CREDENTIAL:
            raise ApiError(BAD_CREDENTIALS)
        cache_key = hmac.digest(self._key, f"{username}\0{password}".encode(), "sha256")
        remembered = self._passwords.get(cache_key)
        if remembered is None:
            limit = self.runtime.sign_in_failures
            if not limit.attempt(request.client_ip):
                raise ApiError(BAD_CREDENTIALS)
            generation = self._generation
            policy = LoginPolicy.from_settings(await self.runtime.settings())
            check = await attempt_login(self.runtime.db, username, password, policy, request.client_ip)
            if check.outcome is Outcome.SIGNED_IN:
                limit.succeeded(request.client_ip)
            if check.outcome is not Outcome.SIGNED_IN or check.user is None or check.password_change_due:
                raise ApiError(BAD_CREDENTIALS)
            remembered = _Remembered(principal_for_user(check.user), check.user.password_changed_at)
            if generation == self.runtime.generations[stamps.DIRECTORY]:
                self._passwords[cache_key] = remembered
        return remembered.principal

    async def _bearer(self, token: str) -> Principal:
        if not token or len(token) > _MAX_CREDENTIAL:
            raise ApiError(BAD_TOKEN)
        digest = sha256_hex(token)
        cached = self._tokens.get(digest)
        if cached is None:
            generation = self._generation
            found = await self.runtime.db.read(directory.principal_for_token, digest)
            if found is None:
                raise ApiError(BAD_TOKEN)
            if generation == self.runtime.generations[stamps.DIRECTORY]:
                self._tokens[digest] = found
            cached = found
        principal, expires_at = cached
        if expires_at <= utcnow():
            self._tokens.pop(digest, None)
            raise ApiError(BAD_TOKEN)
        return principal
