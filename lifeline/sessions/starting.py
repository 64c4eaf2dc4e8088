"""How a customer's request becomes a session: by session key (typed or from the key URL),
by picking a representative, or by submitting an issue (or the general queue).

Pure of HTTP: the public site and /api/start_session turn their parameters into a
`CustomerStart` and show the customer what a `Refusal` says.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.directory.models import Issue, PublicSite, User
from lifeline.presence import actions as presence
from lifeline.presence.actions import ClientInfo, ClientKind
from lifeline.presence.models import ClientConnection
from lifeline.presence.queries import live_rep_connection, on_duty
from lifeline.sessions import actions as engine
from lifeline.sessions.actions import CustomerDetails
from lifeline.sessions.keys import KeyState, find_key
from lifeline.sessions.models import SessionKey
from lifeline.sessions.queues import GENERAL, Queue, QueueError, issue_queue, rep_queue, resolve_queue


class Refusal(enum.Enum):
    """Why no session started, worded for the customer."""

    KEY_UNKNOWN = "That session key is not valid. Check the digits, or ask your representative for a new key."
    KEY_EXPIRED = "That session key has expired. Ask your representative for a new one."
    KEY_USED = "That session key has already been used. Ask your representative for a new one."
    REP_UNAVAILABLE = "That representative is not available right now. Pick another one, or describe your issue."
    ISSUE_UNKNOWN = "That issue is not offered here. Please choose one from the list."
    GENERAL_CLOSED = "Please choose an issue or a representative to get help."
    NOBODY_ON_DUTY = "Nobody is on duty to help with that right now. Please come back later."
    NOTHING = "Enter your session key, pick a representative, or describe your issue to get help."


@dataclass(frozen=True)
class CustomerStart:
    public_site_id: int
    client: ClientInfo
    details: CustomerDetails = field(default_factory=CustomerDetails)
    short_key: str = ""
    url_key: str = ""
    rep_id: int | None = None
    issue_menu: bool = False
    issue_id: int | None = None  # or a rep's id when the site shows reps in the issue menu
    issue_code: str = ""
    external_key: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)


# The customer's token: 32 random bytes, always 43 characters of URL-safe base64.
TOKEN_BYTES = 32


@dataclass(frozen=True)
class Started:
    lsid: str
    gsnumber: int
    token: str  # the customer's credential for their client; only its SHA-256 is stored


def _queue_for(session: Session, request: CustomerStart, site: PublicSite) -> tuple[Queue, str] | Refusal:
    """The queue to wait in, and the start method the reports will show."""
    if request.rep_id is not None and not request.issue_menu:
        user = session.get(User, request.rep_id)
        if user is None or not user.enabled or live_rep_connection(session, user.id) is None:
            return Refusal.REP_UNAVAILABLE
        try:
            return rep_queue(user), "representative"
        except QueueError:
            return Refusal.REP_UNAVAILABLE
    if request.issue_menu:
        if request.issue_code:
            issue = session.scalars(select(Issue).where(Issue.code_name == request.issue_code)).first()
            return (issue_queue(issue), "issue") if issue else Refusal.ISSUE_UNKNOWN
        if request.issue_id:
            if site.show_reps_in_issue_menu:
                user = session.get(User, request.issue_id)
                if user is None or live_rep_connection(session, user.id) is None:
                    return Refusal.REP_UNAVAILABLE
                return rep_queue(user), "issue"
            issue = session.get(Issue, request.issue_id)
            return (issue_queue(issue), "issue") if issue else Refusal.ISSUE_UNKNOWN
        return (GENERAL, "issue") if site.general_queue_open else Refusal.GENERAL_CLOSED
    return Refusal.NOTHING


@dataclass(frozen=True)
class Plan:
    """What a request would start: read from the database, nothing written yet."""

    site: PublicSite
    queue: Queue
    method: str
    external_key: str
    attributes: dict[str, str]
    key: SessionKey | None


def plan(session: Session, request: CustomerStart) -> Plan | Refusal:
    """Where the customer would wait, or why they cannot. Reads only, so it also answers HEAD."""
    site = session.get(PublicSite, request.public_site_id) or session.get(PublicSite, 1)
    assert site is not None
    if not (request.short_key or request.url_key):
        chosen = _queue_for(session, request, site)
        if isinstance(chosen, Refusal):
            return chosen
        queue, method = chosen
        # Nobody would take it: say so now rather than keep the customer waiting in line.
        if not on_duty(session).covers(queue):
            return Refusal.NOBODY_ON_DUTY
        return Plan(site, queue, method, request.external_key, dict(request.attributes), None)
    state, key = find_key(session, short_key=request.short_key, url_key=request.url_key)
    if state is not KeyState.USABLE or key is None:
        return {
            KeyState.UNKNOWN: Refusal.KEY_UNKNOWN,
            KeyState.EXPIRED: Refusal.KEY_EXPIRED,
            KeyState.USED: Refusal.KEY_USED,
        }.get(state, Refusal.KEY_UNKNOWN)
    try:
        queue = resolve_queue(
            session, "general" if key.queue_kind == "general" else f"{key.queue_kind}:{key.queue_ref_id}"
        )
    except QueueError:
        queue = GENERAL  # the rep or team the key named is gone: someone can still help
    return Plan(
        site,
        queue,
        "session_key_url" if request.url_key else "session_key",
        request.external_key or key.external_key,
        {**key.attributes, **request.attributes},
        key,
    )


def begin(session: Session, request: CustomerStart, *, node_id: str) -> Started | Refusal:
    """Start the customer's session, or say why not. The customer's connection is made here;
    their client attaches to it with the returned token."""
    planned = plan(session, request)
    if isinstance(planned, Refusal):
        return planned
    token = secrets.token_urlsafe(TOKEN_BYTES)
    customer: ClientConnection = presence.connect(
        session,
        node_id=node_id,
        kind=ClientKind.SUPPORT_CUSTOMER,
        info=request.client,
        resume_token_sha256=hashlib.sha256(token.encode()).hexdigest(),
    )
    support_session = engine.start_session(
        session,
        queue=planned.queue,
        public_site_id=planned.site.id,
        customer_connection=customer,
        details=request.details,
        start_method=planned.method,
        external_key=planned.external_key,
        attributes=planned.attributes,
        session_key=planned.key,
    )
    return Started(support_session.lsid, customer.gsnumber, token)
