"""Who is calling: username and password parameters, or an OAuth bearer token.

Verifying a password costs an argon2 hash, so a verified credential is remembered
(keyed by a keyed hash of it, never the password) until anything in the directory
changes. Polling integrations therefore cost a dictionary lookup per call.

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
from datetime import datetime

from lifeline.api.errors import ApiError
from lifeline.api.request import ApiRequest
from lifeline.appliance import stamps
from lifeline.db.base import utcnow
from lifeline.directory import queries as directory
from lifeline.directory.logins import LoginPolicy, Outcome, attempt_login
from lifeline.directory.passwords import sha256_hex
from lifeline.directory.queries import Principal, principal_for_user
from lifeline.runtime import Runtime

BAD_CREDENTIALS = "Login failed"
BAD_TOKEN = "Invalid or expired access token"
NO_CREDENTIALS = "Missing credentials: send username and password, or an OAuth bearer token"

_CACHE_LIMIT = 10_000
_MAX_CREDENTIAL = 256


class Authenticator:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._key = secrets.token_bytes(32)
        self._generation = -1
        self._passwords: dict[bytes, Principal] = {}
        self._tokens: dict[str, tuple[Principal, datetime]] = {}

    def _fresh(self) -> None:
        generation = self.runtime.generations[stamps.DIRECTORY]
        if generation != self._generation or len(self._passwords) + len(self._tokens) > _CACHE_LIMIT:
            self._passwords.clear()
            self._tokens.clear()
            self._generation = generation

    async def authenticate(self, request: ApiRequest) -> Principal:
        self._fresh()
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
        principal = self._passwords.get(cache_key)
        if principal is None:
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
            principal = principal_for_user(check.user)
            if generation == self.runtime.generations[stamps.DIRECTORY]:
                self._passwords[cache_key] = principal
        return principal

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
