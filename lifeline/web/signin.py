"""Signing in from a browser, the same at /login and /console/login: a limit per client
address (in memory, per process), the account lockout, password expiry and rules
(`directory.logins`), and what the person is told."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from lifeline.directory.logins import LoginCheck, LoginPolicy, Outcome, attempt_login
from lifeline.web.context import Web, client_address

WRONG = "The username or password is not right."
LOCKED = (
    "This account is locked after too many wrong passwords. "
    "Try again in a few minutes, or ask an administrator to unlock it."
)
TOO_MANY = "Too many attempts from your address. Wait a few minutes, then try again."
CHANGE_PASSWORD_URL = "/login/password"


async def policy(web: Web) -> LoginPolicy:
    return LoginPolicy.from_settings(await web.runtime.settings())


async def browser_sign_in(web: Web, request: Request, username: str, password: str) -> LoginCheck | str:
    """The checked sign-in, or what to tell the person when it is refused."""
    address = client_address(request)
    if web.logins.blocked(address):
        return TOO_MANY
    check = await attempt_login(web.runtime.db, username, password, await policy(web))
    if check.outcome is Outcome.SIGNED_IN:
        return check
    web.logins.failed(address)
    return LOCKED if check.outcome is Outcome.LOCKED else WRONG


def safe_next(value: str | None, default: str) -> str:
    """Where to go after signing in: only a path on this appliance's own pages."""
    if not value or len(value) > 512:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if not (value == "/console" or value == "/login" or value.startswith("/login/")):
        return default
    return value
