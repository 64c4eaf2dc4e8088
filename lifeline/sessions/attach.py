"""A representative's console attaching: logging in (a new gsnumber) or resuming after a
reconnect (the same one), and what the console starts from. The payloads are the shapes
`live.py` gives consoles; the socket only sends them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.directory.models import Team, User
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientInfo, ClientKind, PresenceError
from lifeline.presence.tokens import new_resume_token, resume_token_sha256
from lifeline.sessions.live import event_payload, file_ids_by_event, session_state
from lifeline.sessions.queries import events_after, sessions_joined_by
from lifeline.sessions.queues import QueueKind, queues_of

NOT_A_REP = "This account may not use the representative console."
RESUME_REFUSED = "resume"  # the connection to resume is over (or not this rep's)


@dataclass(frozen=True)
class Attached:
    gsnumber: int
    resume_token: str
    queues: list[dict[str, Any]]
    may_take: set[tuple[str, int]]  # (queue kind, id): what the hub shows this console as waiting
    showing: bool
    sessions: list[dict[str, Any]]
    history: dict[str, list[dict[str, Any]]]
    teams: list[dict[str, Any]]


def attach_console(
    session: Session,
    *,
    user_id: int,
    node_id: str,
    resume_token: str | None,
    last_event_ids: dict[str, int],
    client: ClientInfo,
) -> Attached | str:
    """Log in or resume. A string is why it cannot (`RESUME_REFUSED` when resuming failed)."""
    user = session.get(User, user_id)
    if user is None or not user.enabled or not user.perm_support:
        return NOT_A_REP
    connection: ClientConnection | None = None
    token = resume_token or ""
    if resume_token:
        connection = presence.adopt(
            session,
            resume_token_sha256(resume_token),
            node_id=node_id,
            kind=ClientKind.REPRESENTATIVE,
            user_id=user.id,
        )
        if connection is None:
            return RESUME_REFUSED
    if connection is None:
        token = new_resume_token()
        try:
            connection = presence.rep_log_in(
                session, user, node_id=node_id, info=client, resume_token_sha256=resume_token_sha256(token)
            )
        except PresenceError as error:
            return str(error)
    queues = queues_of(session, user)
    sessions = sessions_joined_by(session, connection.gsnumber)
    history: dict[str, list[dict[str, Any]]] = {}
    for joined in sessions:
        events = events_after(session, joined, last_event_ids.get(joined.lsid, 0))
        files = file_ids_by_event(session, [e.id for e in events])
        history[joined.lsid] = [event_payload(e, files.get(e.id)) for e in events]
    teams = [
        {"id": team.id, "name": team.name, "embassy": team.is_embassy}
        for team in session.scalars(select(Team).order_by(Team.id))
    ]
    return Attached(
        gsnumber=connection.gsnumber,
        resume_token=token,
        queues=[
            {
                "key": queue.spec,
                "name": "My queue" if queue.kind is QueueKind.REP else queue.name,
                "kind": queue.kind.value,
            }
            for queue in queues
        ],
        may_take={(queue.kind.value, queue.ref_id) for queue in queues},
        showing=connection.showing_on_rep_list,
        sessions=[session_state(session, joined) for joined in sessions],
        history=history,
        teams=teams,
    )
