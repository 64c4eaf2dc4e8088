"""What a report covers: a time window or a list of sessions, a limit, and what the
person asking may see (their `perm_view_reports` level)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, Select, and_, exists, or_, select, true

from lifeline.directory.models import TeamMember, ViewReports
from lifeline.sessions.models import SUPPORT, SessionParticipant, SessionTeam, SupportSession
from lifeline.surveys.models import SurveyResponse


class WindowBy(enum.StrEnum):
    START = "start"  # sessions that began in the window, those still in progress included
    END = "end"  # closed sessions that ended in the window


@dataclass(frozen=True)
class Window:
    by: WindowBy
    since: datetime
    until: datetime | None  # None: up to now

    @property
    def column(self) -> ColumnElement[datetime]:
        if self.by is WindowBy.START:
            return SupportSession.start_time  # type: ignore[return-value]
        return SupportSession.end_time  # type: ignore[return-value]

    def condition(self) -> ColumnElement[bool]:
        column = self.column
        # Support sessions only: presentations share the table (sessions.presenting).
        parts = [column >= self.since, SupportSession.session_type == SUPPORT]
        if self.until is not None:
            parts.append(column < self.until)
        if self.by is WindowBy.END:
            parts.append(SupportSession.end_time.is_not(None))
        return and_(*parts)


class LimitKind(enum.StrEnum):
    ALL = "all"
    REP = "rep"  # sessions the representative owned
    ALL_TEAMS = "team:all"  # sessions that belonged to any team or embassy
    TEAM = "team"  # sessions that belonged to the team or embassy
    MEMBERS = "members"  # sessions owned by members of the team or embassy
    SITE = "site"  # sessions run through the public site


@dataclass(frozen=True)
class Limit:
    kind: LimitKind = LimitKind.ALL
    id: int = 0

    def condition(self) -> ColumnElement[bool]:
        if self.kind is LimitKind.REP:
            return _owned_by(SessionParticipant.user_id == self.id)
        if self.kind is LimitKind.ALL_TEAMS:
            return session_has(SessionTeam.session_id == SupportSession.id)
        if self.kind is LimitKind.TEAM:
            return session_has(SessionTeam.session_id == SupportSession.id, SessionTeam.team_id == self.id)
        if self.kind is LimitKind.MEMBERS:
            members = select(TeamMember.user_id).where(TeamMember.team_id == self.id)
            return _owned_by(SessionParticipant.user_id.in_(members))
        if self.kind is LimitKind.SITE:
            return SupportSession.public_site_id == self.id
        return true()


ALL = Limit()


def session_has(*conditions: ColumnElement[bool]) -> Exists:
    """EXISTS over rows of a session, correlated to SupportSession alone: it still holds in a
    query that itself selects from the table searched (the team summaries read session_teams,
    where automatic correlation left the subquery without a FROM)."""
    return exists().where(*conditions).correlate(SupportSession)


def _owned_by(who: ColumnElement[bool]) -> ColumnElement[bool]:
    return session_has(
        SessionParticipant.session_id == SupportSession.id,
        SessionParticipant.role == "representative",
        SessionParticipant.session_owner.is_(True),
        who,
    )


def _took_part(who: ColumnElement[bool]) -> ColumnElement[bool]:
    return session_has(
        SessionParticipant.session_id == SupportSession.id,
        SessionParticipant.role == "representative",
        who,
    )


@dataclass(frozen=True)
class Viewer:
    """Who asks for a report, as far as reports care: which sessions and recordings they may see."""

    level: ViewReports
    user_id: int | None  # None for API accounts
    recordings: bool

    def condition(self) -> ColumnElement[bool]:
        """Sessions this viewer may see.

        - their sessions: those they took part in as a representative;
        - their teams' sessions: those, plus sessions a member of one of their teams took
          part in, plus sessions that waited in one of their teams' queues;
        - all sessions.
        """
        if self.level is ViewReports.ALL_SESSIONS:
            return true()
        if self.level is ViewReports.NONE or self.user_id is None:
            return SupportSession.id.is_(None)  # nothing
        mine = _took_part(SessionParticipant.user_id == self.user_id)
        if self.level is ViewReports.USER_SESSIONS:
            return mine
        return or_(
            mine,
            _took_part(SessionParticipant.user_id.in_(self.teammates())),
            session_has(SessionTeam.session_id == SupportSession.id, SessionTeam.team_id.in_(self.teams())),
        )

    @property
    def sees_everyone(self) -> bool:
        return self.level is ViewReports.ALL_SESSIONS

    def teams(self) -> Select[int]:
        """The ids of the viewer's teams and embassies (whose sessions team_sessions shows)."""
        return select(TeamMember.team_id).where(TeamMember.user_id == self.user_id)

    def teammates(self) -> Select[int]:
        """The ids of the viewer's teammates, the viewer among them."""
        return select(TeamMember.user_id).where(TeamMember.team_id.in_(self.teams()))


@dataclass(frozen=True)
class Selection:
    """The sessions a report covers, before the viewer's own limits."""

    window: Window | None = None
    lsids: tuple[str, ...] = ()
    limit: Limit = ALL
    site_id: int | None = None
    primary_rep_id: int | None = None  # the representative who last owned the session
    primary_team_id: int | None = None  # the last team the session belonged to
    in_any_team: bool = False
    with_survey: str | None = None  # only sessions with an exit survey of this kind

    def conditions(self) -> list[ColumnElement[bool]]:
        parts: list[ColumnElement[bool]] = [SupportSession.session_type == SUPPORT]
        if self.lsids:
            parts.append(SupportSession.lsid.in_(self.lsids))
        else:
            if self.window is not None:
                parts.append(self.window.condition())
            if self.limit is not ALL:
                parts.append(self.limit.condition())
        if self.site_id is not None:
            parts.append(SupportSession.public_site_id == self.site_id)
        if self.primary_rep_id is not None:
            parts.append(SupportSession.last_owner_user_id == self.primary_rep_id)
        if self.primary_team_id is not None:
            parts.append(SupportSession.primary_team_id == self.primary_team_id)
        if self.in_any_team:
            parts.append(SupportSession.primary_team_id.is_not(None))
        if self.with_survey is not None:
            parts.append(
                session_has(SurveyResponse.session_id == SupportSession.id, SurveyResponse.survey == self.with_survey)
            )
        return parts
