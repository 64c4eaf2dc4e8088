"""Signed-in browsers: a signed session cookie, CSRF tokens for forms, and who is signed in.

The cookie carries the user's id and a random nonce, signed with the appliance's secret.
The nonce names a sign-in kept on the server (`sign_ins`, by its SHA-256), read with the
user on every request: signing out deletes it, so the old cookie opens nothing, and a new
password or a disabled account ends every sign-in of the user. Forms carry a CSRF token
derived from the session nonce (or, before signing in, from a random cookie the form must
echo).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection
from starlette.responses import Response

from lifeline.appliance.settings import APPLIANCE_SECRET
from lifeline.db.base import utcnow
from lifeline.directory import actions as directory
from lifeline.directory.logins import LoginPolicy, password_change_due
from lifeline.directory.models import SignIn, User
from lifeline.directory.passwords import sha256_hex
from lifeline.runtime import Runtime

SESSION_COOKIE = "lifeline_session"
PRELOGIN_COOKIE = "lifeline_csrf"
SESSION_HOURS = 12


@dataclass(frozen=True)
class SignedIn:
    """The user behind a browser, as pages and the console need them."""

    user_id: int
    username: str
    display_name: str
    nonce: str
    admin: bool
    support: bool
    view_reports: str = "none"
    # Signed in, but must choose a new password (an admin asked, or it expired) before anything else.
    password_change_due: bool = False
    view_recordings: bool = False  # perm_view_sd_recordings
    jump_deploy: bool = False  # perm_jump_deploy: may make Jump Client installers

    @property
    def sign_in_id(self) -> str:
        """The server's name for this sign-in (what `sign_ins` stores)."""
        return sha256_hex(self.nonce)


@dataclass(frozen=True)
class _CookieUser:
    user_id: int
    nonce: str


class WebAuth:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def _serializer(self) -> URLSafeTimedSerializer:
        settings = await self.runtime.settings()
        return URLSafeTimedSerializer(settings[APPLIANCE_SECRET], salt="lifeline.session")

    async def _secret(self) -> bytes:
        settings = await self.runtime.settings()
        return str(settings[APPLIANCE_SECRET]).encode()

    # --- the session cookie ------------------------------------------------------------

    async def sign_in(self, response: Response, user: User) -> None:
        nonce = secrets.token_urlsafe(16)
        await self.runtime.db.write(directory.start_sign_in, user.id, sha256_hex(nonce), timedelta(hours=SESSION_HOURS))
        value = (await self._serializer()).dumps({"u": user.id, "n": nonce})
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            secure=True,  # pages are served only over HTTPS (http/transport.py)
            samesite="lax",
            path="/",
        )

    async def sign_out(self, connection: HTTPConnection, response: Response) -> None:
        """Ends the browser's sign-in on the server, then forgets its cookie."""
        cookie = await self._cookie_user(connection)
        if cookie is not None:
            await self.runtime.db.write(directory.end_sign_in, sha256_hex(cookie.nonce))
        response.delete_cookie(SESSION_COOKIE, path="/")

    async def _cookie_user(self, connection: HTTPConnection) -> _CookieUser | None:
        raw = connection.cookies.get(SESSION_COOKIE)
        if not raw or len(raw) > 1000:
            return None
        try:
            payload: Any = (await self._serializer()).loads(raw, max_age=SESSION_HOURS * 3600)
            return _CookieUser(int(payload["u"]), str(payload["n"]))
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    async def signed_in(self, connection: HTTPConnection) -> SignedIn | None:
        cookie = await self._cookie_user(connection)
        if cookie is None:
            return None

        policy = LoginPolicy.from_settings(await self.runtime.settings())

        def load(session: Session) -> SignedIn | None:
            user = session.get(User, cookie.user_id)
            if user is None or not user.enabled:
                return None
            sign_in = session.get(SignIn, sha256_hex(cookie.nonce))
            if sign_in is None or sign_in.user_id != user.id or sign_in.expires_at <= utcnow():
                return None  # signed out, or ended by a new password
            return SignedIn(
                user.id,
                user.username,
                user.display_name,
                cookie.nonce,
                user.perm_admin,
                user.perm_support,
                user.perm_view_reports,
                password_change_due(user, policy),
                view_recordings=user.perm_view_recordings,
                jump_deploy=user.perm_jump_deploy,
            )

        return await self.runtime.db.read(load)

    # --- CSRF ------------------------------------------------------------------------------

    async def csrf_token(self, signed_in: SignedIn) -> str:
        return hmac.digest(await self._secret(), f"csrf:{signed_in.nonce}".encode(), "sha256").hex()

    async def check_csrf(self, signed_in: SignedIn, token: str) -> bool:
        return hmac.compare_digest(await self.csrf_token(signed_in), token or "")

    @staticmethod
    def prelogin_token(connection: HTTPConnection) -> str:
        existing = connection.cookies.get(PRELOGIN_COOKIE, "")
        return existing if 20 <= len(existing) <= 64 else secrets.token_urlsafe(24)

    @staticmethod
    def remember_prelogin(response: Response, token: str) -> None:
        response.set_cookie(PRELOGIN_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/")

    @staticmethod
    def check_prelogin(connection: HTTPConnection, token: str) -> bool:
        cookie = connection.cookies.get(PRELOGIN_COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie, token or "")
