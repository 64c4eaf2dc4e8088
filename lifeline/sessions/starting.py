"""How a customer's request becomes a session: by session key (typed or from the key URL),
by picking a representative, or by submitting an issue (or the general queue).

Pure of HTTP: the public site and /api/start_session turn their parameters into a
`CustomerStart` and show the customer what a `Refusal` says.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.directory.models import ApiAccount, Issue, PublicSite, User
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientInfo, ClientKind
from lifeline.presence.queries import live_rep_connection
from lifeline.presence.tokens import TOKEN_BYTES as TOKEN_BYTES  # web/start.py's placeholder token
from lifeline.presence.tokens import new_resume_token, resume_token_sha256
from lifeline.sessions import actions as engine
from lifeline.sessions.actions import CustomerDetails, attributes_problem
from lifeline.sessions.events import SYSTEM, Actor, ActorType, api_actor
from lifeline.sessions.keys import KeyState, find_key
from lifeline.sessions.models import PRESENTATION, SessionKey
from lifeline.sessions.queues import GENERAL, Queue, QueueError, issue_queue, rep_queue, resolve_queue


class Refusal(enum.Enum):
    """Why no session started, worded for the customer."""

    KEY_UNKNOWN = "That session key is not valid. Check the digits, or ask your representative for a new key."
    KEY_EXPIRED = "That session key has expired. Ask your representative for a new one."
    KEY_USED = "That session key has already been used. Ask your representative for a new one."
    # The browser flow sends them to the presentation instead (web: /presentation/KEY).
    KEY_PRESENTATION = "That key is for a presentation: open it in your web browser to attend."
    REP_UNAVAILABLE = "That representative is not available right now. Pick another one, or describe your issue."
    ISSUE_UNKNOWN = "That issue is not offered here. Please choose one from the list."
    GENERAL_CLOSED = "Please choose an issue or a representative to get help."
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


@dataclass(frozen=True)
class Started:
    lsid: str
    gsnumber: int
    token: str  # the customer's credential for their client; only its SHA-256 is stored


def _queue_for(session: Session, request: CustomerStart, site: PublicSite) -> tuple[Queue, str, str] | Refusal:
    """The queue to wait in, the start method the reports will show, and the issue as the
    reports give it: the numeric id of the issue picked (by id or by code name), or of the
    representative when the site lists reps in the issue menu."""
    if request.rep_id is not None and not request.issue_menu:
        user = session.get(User, request.rep_id)
        if user is None or not user.enabled or live_rep_connection(session, user.id) is None:
            return Refusal.REP_UNAVAILABLE
        try:
            return rep_queue(user), "representative", ""
        except QueueError:
            return Refusal.REP_UNAVAILABLE
    if request.issue_menu:
        if request.issue_code:
            issue = session.scalars(select(Issue).where(Issue.code_name == request.issue_code)).first()
            return (issue_queue(issue), "issue", str(issue.id)) if issue else Refusal.ISSUE_UNKNOWN
        if request.issue_id:
            if site.show_reps_in_issue_menu:
                user = session.get(User, request.issue_id)
                if user is None or live_rep_connection(session, user.id) is None:
                    return Refusal.REP_UNAVAILABLE
                return rep_queue(user), "issue", str(user.id)
            issue = session.get(Issue, request.issue_id)
            return (issue_queue(issue), "issue", str(issue.id)) if issue else Refusal.ISSUE_UNKNOWN
        return (GENERAL, "issue", "") if site.general_queue_open else Refusal.GENERAL_CLOSED
    return Refusal.NOTHING


@dataclass(frozen=True)
class Plan:
    """What a request would start: read from the database, nothing written yet."""

    site: PublicSite
    queue: Queue
    method: str
    issue: str
    typed: dict[str, str]  # session.custom.* values from the customer's request, external_key among them
    from_key: dict[str, str]  # those the session key carries: set by whoever made the key
    key: SessionKey | None


def plan(session: Session, request: CustomerStart) -> Plan | Refusal:
    """Where the customer would wait, or why they cannot. Reads only, so it also answers HEAD."""
    site = session.get(PublicSite, request.public_site_id) or session.get(PublicSite, 1)
    assert site is not None
    typed = {**request.attributes, **({"external_key": request.external_key} if request.external_key else {})}
    if not (request.short_key or request.url_key):
        chosen = _queue_for(session, request, site)
        if isinstance(chosen, Refusal):
            return chosen
        queue, method, issue = chosen
        return Plan(site, queue, method, issue, typed, {}, None)
    state, key = find_key(session, short_key=request.short_key, url_key=request.url_key)
    if key is not None and key.session_type == PRESENTATION:
        return Refusal.KEY_PRESENTATION
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
    method = "session_key_url" if request.url_key else "session_key"
    return Plan(site, queue, method, "", *_typed_and_from_key(typed, key), key)


def _typed_and_from_key(typed: dict[str, str], key: SessionKey) -> tuple[dict[str, str], dict[str, str]]:
    """An external key typed with the session key wins over the key's own (the guide's form
    offers it); custom attributes the integration set on the key stand, and the customer's
    request only adds names the key left out, while all together stay within 10 KB."""
    from_key = {**key.attributes, **({"external_key": key.external_key} if key.external_key else {})}
    if "external_key" in typed:
        from_key.pop("external_key", None)
    added = {name: value for name, value in typed.items() if name not in from_key}
    if attributes_problem({**added, **from_key}, [*added, *from_key]) is not None:
        added = {name: value for name, value in added.items() if name == "external_key"}
    return added, from_key


def key_maker(session: Session, key: SessionKey) -> Actor:
    """Who made a session key, as the event log names them: the representative (on their
    console connection, if they are logged in) or the API account."""
    if key.created_by_api_account_id is not None:
        account = session.get(ApiAccount, key.created_by_api_account_id)
        return api_actor(account.name if account else "deleted account")
    user = session.get(User, key.created_by_user_id) if key.created_by_user_id is not None else None
    if user is None:
        return SYSTEM
    connection = live_rep_connection(session, user.id)
    return Actor(ActorType.REPRESENTATIVE, connection.gsnumber if connection else 0, user.display_name, user.id)


def begin(session: Session, request: CustomerStart, *, node_id: str) -> Started | Refusal:
    """Start the customer's session, or say why not. The customer's connection is made here;
    their client attaches to it with the returned token."""
    planned = plan(session, request)
    if isinstance(planned, Refusal):
        return planned
    token = new_resume_token()
    customer: ClientConnection = presence.connect(
        session,
        node_id=node_id,
        kind=ClientKind.SUPPORT_CUSTOMER,
        info=request.client,
        resume_token_sha256=resume_token_sha256(token),
    )
    typed = dict(planned.typed)
    support_session = engine.start_session(
        session,
        queue=planned.queue,
        public_site_id=planned.site.id,
        customer_connection=customer,
        details=replace(request.details, issue=planned.issue),
        start_method=planned.method,
        external_key=typed.pop("external_key", ""),
        attributes=typed,
        session_key=planned.key,
    )
    if planned.from_key and planned.key is not None:
        engine.set_attributes(session, support_session, planned.from_key, key_maker(session, planned.key))
    return Started(support_session.lsid, customer.gsnumber, token)
