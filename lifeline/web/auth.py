"""Signed-in browsers: a signed session cookie, CSRF tokens for forms, and who is signed in.

The cookie carries the user's id, a nonce, and when their password last changed, signed
with the appliance's secret; changing a password or disabling the account ends every
session of that user. Forms carry a CSRF token derived from the session nonce (or, before
signing in, from a random cookie the form must echo).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection
from starlette.responses import Response

from lifeline.appliance.settings import APPLIANCE_SECRET
from lifeline.directory.logins import LoginPolicy, password_change_due
from lifeline.directory.models import User
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


@dataclass(frozen=True)
class _CookieUser:
    user_id: int
    password_stamp: float
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
        payload = {"u": user.id, "p": user.password_changed_at.timestamp(), "n": secrets.token_urlsafe(16)}
        value = (await self._serializer()).dumps(payload)
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            secure=True,  # pages are served only over HTTPS (web/transport.py)
            samesite="lax",
            path="/",
        )

    @staticmethod
    def sign_out(response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

    async def _cookie_user(self, connection: HTTPConnection) -> _CookieUser | None:
        raw = connection.cookies.get(SESSION_COOKIE)
        if not raw or len(raw) > 1000:
            return None
        try:
            payload: Any = (await self._serializer()).loads(raw, max_age=SESSION_HOURS * 3600)
            return _CookieUser(int(payload["u"]), float(payload["p"]), str(payload["n"]))
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
            if abs(user.password_changed_at.timestamp() - cookie.password_stamp) > 0.001:
                return None  # the password changed since: every earlier session ends
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
