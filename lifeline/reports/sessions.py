"""Reading the sessions a report covers, a chunk at a time.

The sessions themselves come from one streamed query (a server-side cursor on
PostgreSQL, a stepping statement on SQLite) in the order of the report's window; for
each chunk of sessions, the parts the report needs are read with one query per part.
Memory therefore holds one chunk, however many sessions the report returns.
"""

from __future__ import annotations

import enum
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, String, select, type_coerce
from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.directory.models import PublicSite, Team
from lifeline.recordings.models import Recording
from lifeline.reports.criteria import Selection, Viewer, WindowBy
from lifeline.reports.records import (
    Event,
    Participant,
    RecordingOfSession,
    SessionReport,
    SurveyAnswers,
    TeamOfSession,
)
from lifeline.reports.sql import unix_seconds
from lifeline.sessions.models import (
    SessionAttribute,
    SessionEvent,
    SessionParticipant,
    SessionTeam,
    SupportSession,
)
from lifeline.surveys.models import SurveyResponse

CHUNK = 500


class Part(enum.Flag):
    NOTHING = 0
    PARTICIPANTS = enum.auto()
    TEAMS = enum.auto()
    ATTRIBUTES = enum.auto()
    SURVEYS = enum.auto()
    RECORDINGS = enum.auto()
    EVENTS = enum.auto()
    EVERYTHING = PARTICIPANTS | TEAMS | ATTRIBUTES | SURVEYS | RECORDINGS | EVENTS


_SESSION_COLUMNS = (
    SupportSession.id,
    SupportSession.lsid,
    SupportSession.session_type,
    SupportSession.status,
    SupportSession.start_time,
    SupportSession.end_time,
    SupportSession.public_site_id,
    PublicSite.name,
    SupportSession.jumpoint_id,
    SupportSession.jumpoint_name,
    SupportSession.external_key,
    SupportSession.file_transfer_count,
    SupportSession.last_owner_user_id,
    SupportSession.last_owner_gsnumber,
    SupportSession.primary_team_id,
    SupportSession.customer_name,
    SupportSession.customer_company,
    SupportSession.customer_company_code,
    SupportSession.customer_issue,
    SupportSession.customer_details,
)


def matching_sessions(selection: Selection, viewer: Viewer) -> Select[*tuple[Any, ...]]:
    """The sessions of a report, in report order: by start time (or end time for a
    window of ended sessions), then lseq."""
    order = SupportSession.start_time
    if selection.window is not None and selection.window.by is WindowBy.END and not selection.lsids:
        order = SupportSession.end_time  # type: ignore[assignment]
    return (
        select(*_SESSION_COLUMNS)
        .join(PublicSite, PublicSite.id == SupportSession.public_site_id)
        .where(viewer.condition(), *selection.conditions())
        .order_by(order, SupportSession.id)
    )


def session_chunks(
    db: Session,
    selection: Selection,
    viewer: Viewer,
    parts: Part,
    *,
    chunk: int = CHUNK,
    now: datetime | None = None,
) -> Iterator[list[SessionReport]]:
    now = now or utcnow()
    # Core rather than ORM execution: these are plain rows, and there are many of them.
    result = db.connection().execute(matching_sessions(selection, viewer).execution_options(yield_per=chunk))
    for rows in result.partitions():
        sessions = [SessionReport(*row) for row in rows]
        load_parts(db, sessions, parts, now)
        yield sessions


def load_parts(db: Session, sessions: Sequence[SessionReport], parts: Part, now: datetime) -> None:
    by_id = {s.id: s for s in sessions}
    ids = list(by_id)
    if not ids:
        return
    conn = db.connection()
    if Part.PARTICIPANTS in parts:
        for session_id, participant in _participants(conn, ids, now):
            by_id[session_id].participants.append(participant)
    if Part.TEAMS in parts:
        for session_id, team_id, name in conn.execute(
            select(SessionTeam.session_id, Team.id, Team.name)
            .join(Team, Team.id == SessionTeam.team_id)
            .where(SessionTeam.session_id.in_(ids))
            .order_by(SessionTeam.session_id, SessionTeam.first_at, Team.id)
        ):
            owner = by_id[session_id]
            owner.teams.append(TeamOfSession(team_id, name, team_id == owner.primary_team_id))
    if Part.ATTRIBUTES in parts:
        for session_id, code_name, value in conn.execute(
            select(SessionAttribute.session_id, SessionAttribute.code_name, SessionAttribute.value)
            .where(SessionAttribute.session_id.in_(ids))
            .order_by(SessionAttribute.session_id, SessionAttribute.code_name)
        ):
            by_id[session_id].attributes[code_name] = value
    if Part.SURVEYS in parts:
        for session_id, survey in surveys_of(conn, ids):
            by_id[session_id].surveys.append(survey)
    if Part.RECORDINGS in parts:
        for session_id, kind, instance, ended_at in conn.execute(
            select(Recording.session_id, Recording.kind, Recording.instance, Recording.ended_at)
            .where(Recording.session_id.in_(ids))
            .order_by(Recording.session_id, Recording.kind, Recording.instance)
        ):
            by_id[session_id].recordings.append(RecordingOfSession(kind, instance, ended_at is not None))
    if Part.EVENTS in parts:
        grouped: dict[int, list[Event]] = defaultdict(list)
        for event in events_of(conn, ids):
            grouped[event.session_id].append(event)
        for session_id, events in grouped.items():
            by_id[session_id].events = events


def _participants(conn: Connection, ids: list[int], now: datetime) -> Iterator[tuple[int, Participant]]:
    p = SessionParticipant
    for row in conn.execute(
        select(
            p.session_id,
            p.gsnumber,
            p.role,
            p.user_id,
            p.username,
            p.display_name,
            p.display_number,
            p.public_ip,
            p.private_ip,
            p.hostname,
            p.os,
            p.session_owner,
            p.primary_cust,
            p.embassy,
            p.invited,
            p.seconds_involved,
            p.joined_at,
        )
        .where(p.session_id.in_(ids))
        .order_by(p.session_id, p.id)
    ):
        seconds = row.seconds_involved
        if row.joined_at is not None:  # still in the session: count up to now
            seconds += max(0, int((now - row.joined_at).total_seconds()))
        yield row.session_id, Participant(*row[1:15], seconds)  # type: ignore[arg-type, call-arg]


_EVENT_COLUMNS = (
    SessionEvent.session_id,
    SessionEvent.id,
    SessionEvent.event_type,
    unix_seconds(SessionEvent.occurred_at),
    SessionEvent.performed_by_type,
    SessionEvent.performed_by_gsnumber,
    SessionEvent.performed_by_name,
    SessionEvent.destination_type,
    SessionEvent.destination_gsnumber,
    SessionEvent.destination_name,
    SessionEvent.body,
    SessionEvent.filename,
    SessionEvent.filesize,
    # JSON read as text and decoded by `_json`: most events carry empty lists, and
    # decoding those through the JSON type is most of the cost of reading events.
    type_coerce(SessionEvent.data, String).label("data"),
    type_coerce(SessionEvent.files, String).label("files"),
    type_coerce(SessionEvent.system_information, String).label("system_information"),
)


def _json(raw: Any) -> Any:
    """A JSON column's value, from its text (SQLite) or as the driver decoded it (PostgreSQL)."""
    if raw == "[]":
        return []
    if raw is None or raw == "null":
        return None
    if not isinstance(raw, str):
        return raw
    return json.loads(raw)


def event_query() -> Select[*tuple[Any, ...]]:
    return select(*_EVENT_COLUMNS)


def event_of(row: Any) -> Event:
    r = row
    return Event(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
        _json(r[13]) or [], _json(r[14]) or [], _json(r[15]),
    )  # fmt: skip


def events_of(conn: Connection, ids: list[int]) -> Iterator[Event]:
    rows = conn.execute(
        event_query().where(SessionEvent.session_id.in_(ids)).order_by(SessionEvent.session_id, SessionEvent.id)
    ).fetchall()  # one chunk's events, all of which the chunk holds anyway
    for row in rows:
        yield event_of(row)


def surveys_of(conn: Connection, ids: list[int]) -> Iterator[tuple[int, SurveyAnswers]]:
    r = SurveyResponse
    for row in conn.execute(
        select(
            r.session_id,
            r.id,
            r.survey,
            r.submitted_by_gsnumber,
            r.submitted_by_name,
            r.submitted_by_user_id,
            r.submitted_at,
            r.answers,
        )
        .where(r.session_id.in_(ids))
        .order_by(r.session_id, r.id)
    ):
        yield row.session_id, SurveyAnswers(*row[1:])
