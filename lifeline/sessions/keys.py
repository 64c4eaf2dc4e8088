"""Session keys: a seven-digit code to read over the phone, and a long one for the key URL.

A key is used once. Its seven-digit code is unique among keys that can still be used,
and is recycled once its key has been used or has expired.
"""

from __future__ import annotations

import enum
import functools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from lifeline.db.base import utcnow
from lifeline.directory.queries import DirectorySnapshot
from lifeline.sessions.models import SessionKey
from lifeline.sessions.queues import Queue

SHORT_KEY_LENGTH = 7
_ATTEMPTS = 20


class SessionKeyError(ValueError):
    """A session key that cannot be generated or used; the message says why."""


class KeyState(enum.StrEnum):
    USABLE = "usable"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class KeyRequest:
    queue: Queue
    ttl: int | None = None
    external_key: str = ""
    url_hostname: str = ""
    public_site_id: int | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    created_by_user_id: int | None = None
    created_by_api_account_id: int | None = None
    session_type: str = "support"  # or "presentation": a key attendees join a presentation with


@dataclass(frozen=True)
class KeySite:
    """The public site a key starts its session on, and the hostname its URL is on."""

    id: int
    hostname: str


def key_site(directory: DirectorySnapshot, hostname: str = "") -> KeySite | None:
    """The site `hostname` names (the default site, on its primary hostname, without one);
    None when it is not a hostname of one of our public sites."""
    if not hostname:
        return KeySite(directory.default_site.id, directory.default_site.primary_hostname)
    site = directory.site_for_hostname(hostname)
    return None if site is None else KeySite(site.id, hostname.lower().rstrip("."))


def _random_code() -> str:
    # No leading zero: some integrations read the key as a number.
    return str(secrets.randbelow(9 * 10 ** (SHORT_KEY_LENGTH - 1)) + 10 ** (SHORT_KEY_LENGTH - 1))


@dataclass(frozen=True)
class IssuedKey:
    id: int
    short_key: str
    url_key: str
    ttl: int
    expires_at: datetime
    external_key: str


@functools.cache
def _insert_statement(dialect: str) -> Executable:
    """INSERT ... ON CONFLICT (active_short_key) DO NOTHING RETURNING id, url_key, built once per
    dialect. The URL key tells which rows of a many-row insert went in."""
    table = cast(Table, SessionKey.__table__)
    statement = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(table)
    return statement.on_conflict_do_nothing(index_elements=["active_short_key"]).returning(table.c.id, table.c.url_key)


def _insert_ignoring_conflict(session: Session, values: dict[str, Any]) -> int | None:
    """Insert the key unless its code is taken by a live key; one statement on either database."""
    statement = _insert_statement(session.get_bind().dialect.name)
    inserted: int | None = session.connection().execute(statement, values).scalar()
    return inserted


def _capped_ttl(request: KeyRequest, max_ttl: int) -> int:
    ttl = max_ttl if request.ttl is None else min(request.ttl, max_ttl)
    if ttl <= 0:
        raise SessionKeyError("ttl must be a positive number of seconds")
    return ttl


def _row(request: KeyRequest, code: str, url_key: str, ttl: int, now: datetime) -> dict[str, Any]:
    return {
        "short_key": code,
        "active_short_key": code,
        "url_key": url_key,
        "session_type": request.session_type,
        "queue_kind": request.queue.kind.value,
        "queue_ref_id": request.queue.ref_id,
        "external_key": request.external_key,
        "attributes": dict(request.attributes),
        "url_hostname": request.url_hostname,
        "public_site_id": request.public_site_id,
        "ttl": ttl,
        "created_at": now,
        "expires_at": now + timedelta(seconds=ttl),
        "created_by_user_id": request.created_by_user_id,
        "created_by_api_account_id": request.created_by_api_account_id,
    }


def _issued(key_id: int, row: dict[str, Any]) -> IssuedKey:
    return IssuedKey(key_id, row["short_key"], row["url_key"], row["ttl"], row["expires_at"], row["external_key"])


def generate_session_key(session: Session, request: KeyRequest, *, max_ttl: int) -> IssuedKey:
    """Make a new key; `ttl` is capped at the appliance's maximum session key lifetime."""
    ttl = _capped_ttl(request, max_ttl)
    now = utcnow()
    url_key = secrets.token_hex(16)
    for _ in range(_ATTEMPTS):
        code = _random_code()
        values = _row(request, code, url_key, ttl, now)
        key_id = _insert_ignoring_conflict(session, values)
        if key_id is None:
            # The code belongs to another key; take it over only if that key has expired.
            recycled = session.execute(
                update(SessionKey)
                .where(SessionKey.active_short_key == code, SessionKey.expires_at <= now)
                .values(active_short_key=None)
            )
            if recycled.rowcount == 0:  # type: ignore[attr-defined]
                continue
            key_id = _insert_ignoring_conflict(session, values)
            if key_id is None:
                continue
        return _issued(key_id, values)
    raise SessionKeyError("Could not find a free session key; try again")


def generate_session_keys(
    session: Session, requests: Sequence[KeyRequest], *, max_ttl: int
) -> list[IssuedKey | SessionKeyError]:
    """Make a key for each request, in order, with one INSERT for all of them: the Command API
    issues the keys asked for together this way. A request whose code was taken (by a live
    key or another row of the same insert) gets its key from `generate_session_key`, which
    draws again and recycles expired codes; a bad request gets its error, not the others'."""
    now = utcnow()
    outcomes: list[IssuedKey | SessionKeyError | None] = [None] * len(requests)
    rows: dict[str, tuple[int, dict[str, Any]]] = {}
    for n, request in enumerate(requests):
        try:
            ttl = _capped_ttl(request, max_ttl)
        except SessionKeyError as error:
            outcomes[n] = error
            continue
        url_key = secrets.token_hex(16)
        rows[url_key] = (n, _row(request, _random_code(), url_key, ttl, now))
    if rows:
        statement = _insert_statement(session.get_bind().dialect.name)
        inserted = session.connection().execute(statement, [row for _, row in rows.values()])
        for key_id, url_key in inserted:
            n, row = rows[url_key]
            outcomes[n] = _issued(key_id, row)
    for n, request in enumerate(requests):
        if outcomes[n] is None:
            try:
                outcomes[n] = generate_session_key(session, request, max_ttl=max_ttl)
            except SessionKeyError as error:
                outcomes[n] = error
    return [outcome for outcome in outcomes if outcome is not None]


def find_key(session: Session, *, short_key: str = "", url_key: str = "") -> tuple[KeyState, SessionKey | None]:
    """Look a key up by its code or its URL key and say whether it can be used now."""
    if short_key:
        key = session.scalars(
            select(SessionKey).where(SessionKey.short_key == short_key).order_by(SessionKey.id.desc())
        ).first()
    elif url_key:
        key = session.scalars(select(SessionKey).where(SessionKey.url_key == url_key)).first()
    else:
        key = None
    if key is None:
        return KeyState.UNKNOWN, None
    return key_state(key), key


def key_state(key: SessionKey, now: datetime | None = None) -> KeyState:
    if key.used_at is not None:
        return KeyState.USED
    if key.expires_at <= (now or utcnow()):
        return KeyState.EXPIRED
    return KeyState.USABLE
