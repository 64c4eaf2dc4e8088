"""What the /login report pages read from the session engine's tables: sessions found by
date, representative, team, public site and external key; one session's whole story; and
team summaries. Each read sees only what the viewer may see (`criteria.Viewer`, the rule
the Reporting API keeps)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from lifeline.directory.models import CustomAttribute, PublicSite, Team, User, ViewReports
from lifeline.recordings.models import Recording
from lifeline.reports.criteria import Viewer, session_has
from lifeline.sessions.models import (
    SUPPORT,
    EventType,
    SessionAttribute,
    SessionEvent,
    SessionFile,
    SessionParticipant,
    SessionTeam,
    SupportSession,
)
from lifeline.sessions.queries import issues_picked
from lifeline.surveys.models import SurveyQuestion, SurveyResponse

MAX_ROWS = 200


def viewer_for(user_id: int, *, admin: bool, view_reports: str, view_recordings: bool) -> Viewer:
    """Whose reports a /login user sees: an admin every session, others what their
    perm_view_reports allows, by the same rule as the Reporting API; and their recordings
    only with perm_view_sd_recordings (administrators too, as in the API)."""
    level = ViewReports.ALL_SESSIONS if admin else ViewReports(view_reports)
    return Viewer(level=level, user_id=user_id, recordings=view_recordings)


@dataclass(frozen=True)
class DayRange:
    """Whole days in the appliance's time zone, both ends included."""

    since: date
    until: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time(), self.zone)

    def condition(self) -> ColumnElement[bool]:
        return and_(SupportSession.start_time >= self.start, SupportSession.start_time < self.end)

    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]


# --- finding sessions --------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    window: DayRange
    rep_id: int | None = None  # sessions the representative took part in
    team_id: int | None = None  # sessions that were in the team's (or embassy's) queue
    site_id: int | None = None
    external_key: str = ""  # a part of it, any case


@dataclass(frozen=True)
class Choices:
    """What the search form offers: (id, name) of representatives, teams and public sites."""

    reps: list[tuple[int, str]]
    teams: list[tuple[int, str]]
    sites: list[tuple[int, str]]


def search_choices(session: Session, viewer: Viewer) -> Choices:
    """Everyone for a viewer who sees every session; for others their teams and teammates."""
    reps = select(User.id, User.display_name).where(User.perm_support.is_(True)).order_by(User.display_name)
    teams = select(Team.id, Team.name).order_by(Team.name)
    if not viewer.sees_everyone:
        teams = teams.where(Team.id.in_(viewer.teams()))
        reps = reps.where((User.id == viewer.user_id) | User.id.in_(viewer.teammates()))
    sites = select(PublicSite.id, PublicSite.name).order_by(PublicSite.id)
    return Choices(
        [(i, n) for i, n in session.execute(reps)],
        [(i, n) for i, n in session.execute(teams)],
        [(i, n) for i, n in session.execute(sites)],
    )


@dataclass(frozen=True)
class SessionRow:
    lsid: str
    lseq: int
    status: str
    start_time: datetime
    end_time: datetime | None
    duration: int | None  # seconds
    customer: str
    issue: str
    reps: tuple[str, ...]  # owners first
    team: str
    site: str
    external_key: str


def find_sessions(session: Session, search: Search, viewer: Viewer) -> tuple[list[SessionRow], bool]:
    """The newest matching sessions (at most MAX_ROWS), and whether there were more."""
    query = select(SupportSession).where(search.window.condition(), viewer.condition())
    if search.rep_id is not None:
        query = query.where(
            session_has(
                SessionParticipant.session_id == SupportSession.id,
                SessionParticipant.role == "representative",
                SessionParticipant.user_id == search.rep_id,
            )
        )
    if search.team_id is not None:
        query = query.where(
            session_has(SessionTeam.session_id == SupportSession.id, SessionTeam.team_id == search.team_id)
        )
    if search.site_id is not None:
        query = query.where(SupportSession.public_site_id == search.site_id)
    if search.external_key:
        query = query.where(SupportSession.external_key.icontains(search.external_key, autoescape=True))
    found = list(
        session.scalars(query.order_by(SupportSession.start_time.desc(), SupportSession.id.desc()).limit(MAX_ROWS + 1))
    )
    return _rows(session, found[:MAX_ROWS]), len(found) > MAX_ROWS


def _rows(session: Session, sessions: list[SupportSession]) -> list[SessionRow]:
    ids = [s.id for s in sessions]
    reps: dict[int, list[tuple[bool, str]]] = defaultdict(list)
    for session_id, owner, name in session.execute(
        select(SessionParticipant.session_id, SessionParticipant.session_owner, SessionParticipant.display_name)
        .where(SessionParticipant.session_id.in_(ids), SessionParticipant.role == "representative")
        .order_by(SessionParticipant.id)
    ):
        if name not in [n for _, n in reps[session_id]]:
            reps[session_id].append((not owner, name))
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    sites = dict(session.execute(select(PublicSite.id, PublicSite.name)).all())
    issues = issues_picked(session, ids)
    return [
        SessionRow(
            lsid=s.lsid,
            lseq=s.id,
            status=s.status,
            start_time=s.start_time,
            end_time=s.end_time,
            duration=int((s.end_time - s.start_time).total_seconds()) if s.end_time else None,
            customer=s.customer_name,
            issue=issues.get(s.id, ""),
            reps=tuple(name for _, name in sorted(reps[s.id], key=lambda r: r[0])),
            team=teams.get(s.primary_team_id, "") if s.primary_team_id else "",
            site=sites.get(s.public_site_id, ""),
            external_key=s.external_key,
        )
        for s in sessions
    ]


# --- one session -------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    id: int
    at: datetime
    event_type: str
    performed_by: str
    performed_by_type: str
    destination: str
    body: str | None
    filename: str | None
    filesize: int | None
    data: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, e: SessionEvent, *, with_data: bool = True) -> EventRow:
        data = tuple((str(name), str(value)) for name, value in e.data) if with_data else ()
        return cls(
            e.id,
            e.occurred_at,
            e.event_type,
            e.performed_by_name,
            e.performed_by_type,
            e.destination_name,
            e.body,
            e.filename,
            e.filesize,
            data,
        )


@dataclass(frozen=True)
class Participant:
    role: str
    name: str
    username: str
    owner: bool
    joined_at: datetime | None
    seconds_involved: int
    hostname: str
    os: str
    public_ip: str


@dataclass(frozen=True)
class FileRow:
    id: int
    name: str
    size: int
    sent_by: str
    at: datetime


@dataclass(frozen=True)
class RecordingRow:
    id: int
    lsid: str
    kind: str  # screen, command_shell, presentation (RecordingKind)
    instance: int
    storage_name: str
    content_type: str
    size: int
    started_at: datetime
    ended_at: datetime | None  # None while it is still being recorded

    @property
    def duration(self) -> int | None:
        return int((self.ended_at - self.started_at).total_seconds()) if self.ended_at else None


@dataclass(frozen=True)
class SurveyAnswers:
    survey: str  # customer or representative
    submitted_by: str
    at: datetime
    answers: tuple[tuple[str, str], ...]  # (report header, answer)


@dataclass(frozen=True)
class SessionReport:
    summary: SessionRow
    customer_company: str
    customer_details: str
    start_method: str
    attributes: tuple[tuple[str, str], ...]  # (display name, value), external key first
    participants: tuple[Participant, ...]
    events: tuple[EventRow, ...]
    files: tuple[FileRow, ...]
    surveys: tuple[SurveyAnswers, ...]
    recordings: tuple[RecordingRow, ...]  # listed to everyone who sees the session; played by viewer.recordings

    @property
    def transcript(self) -> tuple[EventRow, ...]:
        return tuple(e for e in self.events if e.event_type in TRANSCRIPT)


TRANSCRIPT = {EventType.CHAT_MESSAGE.value, EventType.FILE_UPLOAD.value, EventType.FILE_DOWNLOAD.value}


def visible_session(session: Session, lsid: str, viewer: Viewer) -> SupportSession | None:
    if len(lsid) != 32:
        return None
    return session.scalars(
        select(SupportSession).where(SupportSession.lsid == lsid.lower(), viewer.condition())
    ).first()


def session_report(session: Session, lsid: str, viewer: Viewer) -> SessionReport | None:
    found = visible_session(session, lsid, viewer)
    if found is None:
        return None
    participants = list(
        session.scalars(
            select(SessionParticipant)
            .where(SessionParticipant.session_id == found.id)
            .order_by(SessionParticipant.joined_at, SessionParticipant.id)
        )
    )
    names = {p.gsnumber: p.display_name for p in participants}
    events = list(
        session.scalars(select(SessionEvent).where(SessionEvent.session_id == found.id).order_by(SessionEvent.id))
    )
    joined = _first_joined(events)
    files = session.scalars(select(SessionFile).where(SessionFile.session_id == found.id).order_by(SessionFile.id))
    return SessionReport(
        summary=_rows(session, [found])[0],
        customer_company=found.customer_company,
        customer_details=found.customer_details,
        start_method=found.start_method,
        attributes=_attributes(session, found),
        participants=tuple(
            Participant(
                p.role,
                p.display_name,
                p.username,
                p.session_owner,
                joined.get((p.role, p.gsnumber), p.joined_at),
                p.seconds_involved,
                p.hostname,
                p.os,
                p.public_ip,
            )
            for p in participants
        ),
        events=tuple(EventRow.of(e) for e in events),
        files=tuple(FileRow(f.id, f.name, f.size, names.get(f.sent_by_gsnumber, ""), f.created_at) for f in files),
        surveys=_surveys(session, found),
        recordings=tuple(_recording_row(found.lsid, r) for r in _recordings_of(session, found.id)),
    )


def _first_joined(events: list[SessionEvent]) -> dict[tuple[str, int], datetime]:
    """When each participant first joined, by role and gsnumber, from the event log (the
    participant row's joined_at is only set while they are in the session)."""
    joined: dict[tuple[str, int], datetime] = {}
    for e in events:
        if e.event_type == EventType.SESSION_START and e.performed_by_type == "customer":
            joined.setdefault(("customer", e.performed_by_gsnumber), e.occurred_at)
        elif e.event_type == EventType.CONFERENCE_MEMBER_ADDED and e.destination_gsnumber is not None:
            joined.setdefault((e.destination_type or "representative", e.destination_gsnumber), e.occurred_at)
    return joined


def _recordings_of(session: Session, session_id: int) -> list[Recording]:
    order = (Recording.started_at, Recording.kind, Recording.instance)
    return list(session.scalars(select(Recording).where(Recording.session_id == session_id).order_by(*order)))


def _recording_row(lsid: str, r: Recording) -> RecordingRow:
    return RecordingRow(
        r.id, lsid, r.kind, r.instance, r.storage_name, r.content_type, r.size, r.started_at, r.ended_at
    )


def visible_recording(session: Session, recording_id: int, viewer: Viewer) -> RecordingRow | None:
    """A recording the viewer may play: they may see recordings, and the session."""
    if not viewer.recordings:
        return None
    row = session.execute(
        select(Recording, SupportSession.lsid)
        .join(SupportSession, SupportSession.id == Recording.session_id)
        .where(Recording.id == recording_id, viewer.condition())
    ).first()
    return _recording_row(row[1], row[0]) if row else None


def _attributes(session: Session, found: SupportSession) -> tuple[tuple[str, str], ...]:
    display = dict(session.execute(select(CustomAttribute.code_name, CustomAttribute.display_name)).all())
    values = session.execute(
        select(SessionAttribute.code_name, SessionAttribute.value)
        .where(SessionAttribute.session_id == found.id)
        .order_by(SessionAttribute.code_name)
    ).all()
    return (("External key", found.external_key), *((display.get(code, code), value) for code, value in values))


def _surveys(session: Session, found: SupportSession) -> tuple[SurveyAnswers, ...]:
    questions = {str(q.id): q for q in session.scalars(select(SurveyQuestion))}
    result = []
    for response in session.scalars(
        select(SurveyResponse).where(SurveyResponse.session_id == found.id).order_by(SurveyResponse.id)
    ):
        answers = []
        for question_id, values in response.answers.items():
            question = questions.get(question_id)
            header = (question.report_header or question.label) if question else f"question {question_id}"
            answers.append((header, ", ".join(str(v) for v in values)))
        result.append(SurveyAnswers(response.survey, response.submitted_by_name, response.submitted_at, tuple(answers)))
    return tuple(result)


def visible_file(session: Session, file_id: int, viewer: Viewer) -> SessionFile | None:
    return session.scalars(
        select(SessionFile)
        .join(SupportSession, SupportSession.id == SessionFile.session_id)
        .where(SessionFile.id == file_id, viewer.condition())
    ).first()


# --- teams -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSummary:
    id: int
    name: str
    embassy: bool
    sessions: int
    ended: int
    average_duration: int | None  # seconds, ended sessions
    longest_duration: int | None
    files: int


def team_summaries(session: Session, window: DayRange, viewer: Viewer) -> list[TeamSummary]:
    """Per team: the sessions that were in its queue and started in the window."""
    rows = session.execute(
        select(
            SessionTeam.team_id,
            SupportSession.start_time,
            SupportSession.end_time,
            SupportSession.file_transfer_count,
        )
        .join(SupportSession, SupportSession.id == SessionTeam.session_id)
        .where(window.condition(), viewer.condition())
    ).all()
    counts: Counter[int] = Counter()
    files: Counter[int] = Counter()
    durations: dict[int, list[int]] = defaultdict(list)
    for team_id, start, end, file_count in rows:
        counts[team_id] += 1
        files[team_id] += file_count
        if end is not None:
            durations[team_id].append(int((end - start).total_seconds()))
    return [
        TeamSummary(
            id=team.id,
            name=team.name,
            embassy=team.is_embassy,
            sessions=counts[team.id],
            ended=len(durations[team.id]),
            average_duration=sum(durations[team.id]) // len(durations[team.id]) if durations[team.id] else None,
            longest_duration=max(durations[team.id]) if durations[team.id] else None,
            files=files[team.id],
        )
        for team in session.scalars(select(Team).order_by(Team.name))
    ]


def sessions_per_day(session: Session, window: DayRange, viewer: Viewer, team_id: int | None) -> list[tuple[date, int]]:
    # Support sessions a day: presentations are listed in the search (their recordings play
    # on their page), not counted here.
    query = select(SupportSession.start_time).where(
        window.condition(), viewer.condition(), SupportSession.session_type == SUPPORT
    )
    if team_id is not None:
        query = query.where(session_has(SessionTeam.session_id == SupportSession.id, SessionTeam.team_id == team_id))
    per_day = Counter(start.astimezone(window.zone).date() for start in session.scalars(query))
    return [(day, per_day[day]) for day in window.days()]


@dataclass(frozen=True)
class TeamEvent:
    lsid: str
    customer: str
    event: EventRow


def team_activity(session: Session, team_id: int, window: DayRange, viewer: Viewer) -> list[TeamEvent]:
    """The newest events logged while sessions were in the team (at most MAX_ROWS)."""
    rows = session.execute(
        select(SessionEvent, SupportSession.lsid, SupportSession.customer_name)
        .join(SupportSession, SupportSession.id == SessionEvent.session_id)
        .where(
            SessionEvent.team_id == team_id,
            SessionEvent.occurred_at >= window.start,
            SessionEvent.occurred_at < window.end,
            viewer.condition(),
        )
        .order_by(SessionEvent.id.desc())
        .limit(MAX_ROWS)
    ).all()
    return [TeamEvent(lsid, customer, EventRow.of(e, with_data=False)) for e, lsid, customer in rows]
