"""Who is on duty: the representatives logged into a console, how many sessions each is in,
and the queues someone could take a session from now. Reads of presence and sessions
together, so they live in the session engine, above presence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.directory.models import TeamMember, User
from lifeline.presence.models import ClientConnection, ClientKind
from lifeline.sessions.models import PRESENTATION, SUPPORT, SessionParticipant, SessionStatus, SupportSession
from lifeline.sessions.queues import Queue, QueueKind


@dataclass(frozen=True)
class LoggedInRep:
    id: int
    username: str
    display_name: str
    private_display_name: str
    kind: str  # Normal, Embassy or Invited
    logged_in_since: datetime
    presentation_count: int
    support_session_count: int
    showing_on_rep_list: bool


def logged_in_reps(session: Session) -> list[LoggedInRep]:
    rows = session.execute(
        select(User, ClientConnection.connected_since, ClientConnection.showing_on_rep_list)
        .join(ClientConnection, ClientConnection.user_id == User.id)
        .where(
            ClientConnection.kind == ClientKind.REPRESENTATIVE.value,
            ClientConnection.disconnected_at.is_(None),
        )
        .order_by(User.id)
    ).all()
    # Support sessions and presentations each rep is in now, counted apart.
    counts: dict[tuple[int | None, str], int] = {
        (user_id, session_type): count
        for user_id, session_type, count in session.execute(
            select(
                SessionParticipant.user_id,
                SupportSession.session_type,
                func.count(func.distinct(SessionParticipant.session_id)),
            )
            .join(SupportSession, SupportSession.id == SessionParticipant.session_id)
            .where(
                SessionParticipant.role == "representative",
                SessionParticipant.joined_at.is_not(None),
                SupportSession.status != SessionStatus.ENDED.value,
            )
            .group_by(SessionParticipant.user_id, SupportSession.session_type)
        ).all()
    }
    since: dict[int, datetime] = {}
    showing: dict[int, bool] = defaultdict(bool)
    users: dict[int, User] = {}
    for user, connected_since, connection_showing in rows:
        users[user.id] = user
        since[user.id] = min(since.get(user.id, connected_since), connected_since)
        showing[user.id] |= bool(connection_showing)
    return [
        LoggedInRep(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            private_display_name=user.effective_private_display_name,
            kind=user.kind,
            logged_in_since=since[user.id],
            presentation_count=counts.get((user.id, PRESENTATION), 0),
            support_session_count=counts.get((user.id, SUPPORT), 0),
            showing_on_rep_list=showing[user.id] and user.perm_show_on_rep_list and user.enabled,
        )
        for user in users.values()
    ]


@dataclass(frozen=True)
class OnDuty:
    """The queues someone could take a session from now: those of the representatives
    logged into a console (enabled, allowed to support)."""

    general: bool
    rep_ids: frozenset[int]
    team_ids: frozenset[int]  # teams and embassies

    def covers(self, queue: Queue) -> bool:
        if queue.kind is QueueKind.GENERAL:
            return self.general
        if queue.kind is QueueKind.REP:
            return queue.ref_id in self.rep_ids
        return queue.ref_id in self.team_ids


def on_duty(session: Session) -> OnDuty:
    reps = session.execute(
        select(User.id, User.perm_general_queue)
        .join(ClientConnection, ClientConnection.user_id == User.id)
        .where(
            ClientConnection.kind == ClientKind.REPRESENTATIVE.value,
            ClientConnection.disconnected_at.is_(None),
            User.enabled.is_(True),
            User.perm_support.is_(True),
        )
        .distinct()
    ).all()
    rep_ids = frozenset(rep_id for rep_id, _ in reps)
    teams = select(TeamMember.team_id).where(TeamMember.user_id.in_(rep_ids)).distinct()
    team_ids = frozenset(session.scalars(teams)) if rep_ids else frozenset()
    return OnDuty(any(general for _, general in reps), rep_ids, team_ids)
