"""What happened in each team (SupportTeam): its members logging into and out of the
console, and the events of its sessions, streamed in time order."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from lifeline.directory.models import Team, TeamMember, User, ViewReports
from lifeline.presence.models import ClientConnection, ClientKind
from lifeline.reports.criteria import Viewer, Window, WindowBy
from lifeline.reports.sessions import event_of, event_query
from lifeline.sessions.models import EventType, SessionEvent, SupportSession

STREAM_CHUNK = 1000


class TeamEvent(NamedTuple):
    at: datetime  # exactly when, to put the team's events in order
    timestamp: int  # UNIX seconds
    event_type: str
    performed_by_type: str
    performed_by_gsnumber: int
    performed_by_name: str
    destinations: list[tuple[int, str]]  # (gsnumber, name)
    body: str | None
    files: list[dict[str, Any]]
    data: list[list[str]]


@dataclass(frozen=True)
class LoggedInRep:
    gsnumber: int
    id: int
    display_name: str
    public_ip: str
    private_ip: str


@dataclass
class TeamActivity:
    id: int
    name: str
    logged_in: list[LoggedInRep]  # members in the console before the team's first event
    events: Iterator[TeamEvent]


def visible_teams(db: Session, viewer: Viewer, team_id: int | None) -> list[tuple[int, str]]:
    query = select(Team.id, Team.name).order_by(Team.id)
    if team_id is not None:
        query = query.where(Team.id == team_id)
    if not viewer.sees_everyone:
        if viewer.level is not ViewReports.TEAM_SESSIONS or viewer.user_id is None:
            return []
        query = query.where(Team.id.in_(viewer.teams()))
    return [(row[0], row[1]) for row in db.execute(query)]


def team_activities(db: Session, window: Window, viewer: Viewer, team_id: int | None = None) -> Iterator[TeamActivity]:
    """Each team with any activity in the window, its events read as they are written out."""
    teams_of_user = _team_names_by_user(db)
    for team_id_, name in visible_teams(db, viewer, team_id):
        events = heapq.merge(
            _session_events(db, team_id_, window),
            _console_events(db, team_id_, window, teams_of_user, joined=True),
            _console_events(db, team_id_, window, teams_of_user, joined=False),
            key=lambda event: event.at,
        )
        first = next(events, None)
        if first is None:
            continue
        logged_in = _logged_in_at(db, team_id_, first.at)
        yield TeamActivity(team_id_, name, logged_in, _chain(first, events))


def _chain(first: TeamEvent, rest: Iterator[TeamEvent]) -> Iterator[TeamEvent]:
    yield first
    yield from rest


def _in_window(column: Any, window: Window) -> ColumnElement[bool]:
    parts = [column >= window.since]
    if window.until is not None:
        parts.append(column < window.until)
    return and_(*parts)


def _session_events(db: Session, team_id: int, window: Window) -> Iterator[TeamEvent]:
    """Events logged while a session belonged to the team. A window of ended activity
    covers the events of the team's sessions that ended in it."""
    query = event_query().add_columns(SessionEvent.occurred_at).where(SessionEvent.team_id == team_id)
    if window.by is WindowBy.END:
        ended = select(SupportSession.id).where(window.condition())
        query = query.where(SessionEvent.session_id.in_(ended))
    else:
        query = query.where(_in_window(SessionEvent.occurred_at, window))
    rows = db.connection().execute(query.order_by(SessionEvent.id).execution_options(yield_per=STREAM_CHUNK))
    for row in rows:
        event = event_of(row)
        destinations = [(event.destination_gsnumber or 0, event.destination_name)] if event.destination_type else []
        yield TeamEvent(
            row.occurred_at,
            event.timestamp,
            event.event_type,
            event.performed_by_type,
            event.performed_by_gsnumber,
            event.performed_by_name,
            destinations,
            event.body,
            event.files,
            event.data,
        )


def _console_events(
    db: Session, team_id: int, window: Window, teams_of_user: dict[int, list[str]], *, joined: bool
) -> Iterator[TeamEvent]:
    """Members logging into (joined) or out of the representative console."""
    c = ClientConnection
    moment = c.connected_since if joined else c.disconnected_at
    query = (
        select(c.gsnumber, c.user_id, User.display_name, c.hostname, c.os, c.private_ip, c.public_ip, moment)
        .join(User, User.id == c.user_id)
        .join(TeamMember, and_(TeamMember.user_id == c.user_id, TeamMember.team_id == team_id))
        .where(c.kind == ClientKind.REPRESENTATIVE.value, moment.is_not(None), _in_window(moment, window))
        .order_by(moment, c.gsnumber)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    event_type = EventType.CONFERENCE_MEMBER_ADDED if joined else EventType.CONFERENCE_MEMBER_DEPARTED
    for gsnumber, user_id, name, hostname, os, private_ip, public_ip, at in db.execute(query):
        assert at is not None  # the query asks for moments that happened
        data = []
        if joined:
            data = [
                ["hostname", hostname],
                ["name", name],
                ["os", os],
                ["private_ip", private_ip],
                ["public_ip", public_ip],
                ["support_teams", ",".join(teams_of_user.get(user_id or 0, []))],
                ["user_id", str(user_id)],
            ]
        yield TeamEvent(at, int(at.timestamp()), event_type.value, "representative", gsnumber, name, [], None, [], data)


def _logged_in_at(db: Session, team_id: int, moment: datetime) -> list[LoggedInRep]:
    c = ClientConnection
    rows = db.execute(
        select(c.gsnumber, c.user_id, User.display_name, c.public_ip, c.private_ip)
        .join(User, User.id == c.user_id)
        .join(TeamMember, and_(TeamMember.user_id == c.user_id, TeamMember.team_id == team_id))
        .where(
            c.kind == ClientKind.REPRESENTATIVE.value,
            c.connected_since < moment,
            (c.disconnected_at.is_(None)) | (c.disconnected_at > moment),
        )
        .order_by(c.gsnumber)
    )
    return [
        LoggedInRep(gsnumber, user_id or 0, name, public_ip, private_ip)
        for gsnumber, user_id, name, public_ip, private_ip in rows
    ]


def _team_names_by_user(db: Session) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    for user_id, name in db.execute(
        select(TeamMember.user_id, Team.name)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.is_embassy.is_(False))
        .order_by(Team.id)
    ):
        names[user_id].append(name)
    return names
