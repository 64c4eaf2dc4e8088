"""Session statistics per representative, team or public site (SupportSessionSummary).

Sessions are streamed and counted as they pass, so memory grows with the number of
representatives, teams or sites, never with the number of sessions.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.directory.models import PublicSite, Team, User
from lifeline.reports.criteria import Selection, Viewer, Window
from lifeline.reports.records import SessionReport
from lifeline.reports.sessions import Part, session_chunks


class SummaryBy(enum.StrEnum):
    REP = "rep"
    TEAM = "team"
    SITE = "site"


@dataclass(frozen=True)
class Summary:
    id: int
    type: SummaryBy
    display_name: str  # as named now
    total_sessions: int
    avg_sessions_per_weekday: float
    avg_duration_seconds: int


@dataclass
class _Tally:
    sessions: int = 0
    weekday_sessions: int = 0
    seconds: int = 0


def weekdays_between(first: date, last: date) -> int:
    """Monday-to-Friday dates from `first` to `last`, both included."""
    if last < first:
        return 0
    days = (last - first).days + 1
    whole_weeks, rest = divmod(days, 7)
    count = whole_weeks * 5
    for offset in range(rest):
        if (first + timedelta(days=whole_weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def _owners(session: SessionReport, by: SummaryBy) -> Iterable[int]:
    if by is SummaryBy.SITE:
        return (session.public_site_id,)
    if by is SummaryBy.TEAM:
        return {team.id for team in session.teams}
    return {p.user_id for p in session.reps if p.session_owner and p.user_id is not None}


def summarize(
    db: Session, window: Window, viewer: Viewer, by: SummaryBy, zone: ZoneInfo, *, now: datetime | None = None
) -> list[Summary]:
    now = now or utcnow()
    parts = {SummaryBy.REP: Part.PARTICIPANTS, SummaryBy.TEAM: Part.TEAMS, SummaryBy.SITE: Part.NOTHING}[by]
    tallies: dict[int, _Tally] = {}
    for chunk in session_chunks(db, Selection(window=window), viewer, parts, now=now):
        for session in chunk:
            on_weekday = session.start_time.astimezone(zone).weekday() < 5
            seconds = session.duration_seconds(now)
            for owner in _owners(session, by):
                tally = tallies.setdefault(owner, _Tally())
                tally.sessions += 1
                tally.weekday_sessions += on_weekday
                tally.seconds += seconds
    until = window.until or now
    weekdays = weekdays_between(
        window.since.astimezone(zone).date(), (until - timedelta(microseconds=1)).astimezone(zone).date()
    )
    names = _names(db, by, list(tallies))
    return [
        Summary(
            id=owner,
            type=by,
            display_name=names.get(owner, ""),
            total_sessions=tally.sessions,
            avg_sessions_per_weekday=round(tally.weekday_sessions / weekdays, 1) if weekdays else 0.0,
            avg_duration_seconds=round(tally.seconds / tally.sessions),
        )
        for owner, tally in sorted(tallies.items())
    ]


def _names(db: Session, by: SummaryBy, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    if by is SummaryBy.REP:
        query = select(User.id, User.display_name).where(User.id.in_(ids))
    elif by is SummaryBy.TEAM:
        query = select(Team.id, Team.name).where(Team.id.in_(ids))
    else:
        query = select(PublicSite.id, PublicSite.name).where(PublicSite.id.in_(ids))
    return {row[0]: row[1] for row in db.execute(query)}
