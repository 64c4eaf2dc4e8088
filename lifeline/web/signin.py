"""Signing in from a browser, the same at /login and /console/login: a limit per client
address shared with the APIs (in memory, per process), waits after wrong passwords per
name and address, password expiry and rules (`directory.logins`), and what the person is told."""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import urlsplit

from starlette.requests import Request

from lifeline.db.base import utcnow
from lifeline.directory.logins import LoginCheck, LoginPolicy, Outcome, attempt_login
from lifeline.http.site import client_address
from lifeline.web.context import Web

WRONG = "The username or password is not right."
WAIT = "Too many wrong passwords for this account from your address. Wait {seconds} seconds, then try again."
TOO_MANY = "Too many attempts from your address. Wait a few minutes, then try again."
CHANGE_PASSWORD_URL = "/login/password"


async def policy(web: Web) -> LoginPolicy:
    return LoginPolicy.from_settings(await web.runtime.settings())


async def browser_sign_in(web: Web, request: Request, username: str, password: str) -> LoginCheck | str:
    """The checked sign-in, or what to tell the person when it is refused."""
    address = client_address(request)
    limit = web.runtime.sign_in_failures
    if not limit.attempt(address):
        return TOO_MANY
    check = await attempt_login(web.runtime.db, username, password, await policy(web), address)
    if check.outcome is Outcome.SIGNED_IN:
        limit.succeeded(address)
        return check
    return refusal(check)


def refusal(check: LoginCheck) -> str:
    """What a person is told when a sign-in is refused."""
    if check.outcome is Outcome.WAIT and check.wait_until is not None:
        return waiting(check.wait_until)
    return WRONG


def waiting(until: datetime) -> str:
    seconds = max(1, math.ceil((until - utcnow()).total_seconds()))
    return WAIT.format(seconds=seconds)


def is_throttled(outcome: LoginCheck | str) -> bool:
    """A refusal that asks to come back later (answered 429), not a wrong password."""
    return isinstance(outcome, str) and outcome != WRONG


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
