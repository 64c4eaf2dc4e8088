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

import orjson
from sqlalchemy import Connection, Select, Text, cast, select
from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.db.engine import BINARY_RESULTS
from lifeline.directory.models import PublicSite, Team
from lifeline.recordings.models import Recording
from lifeline.reports.answers import SurveyAnswers
from lifeline.reports.criteria import Selection, Viewer, WindowBy
from lifeline.reports.frozen import FrozenParts, current_frozen
from lifeline.reports.models import FrozenSessionDetails
from lifeline.reports.records import (
    Event,
    Participant,
    RecordingOfSession,
    SessionReport,
    TeamOfSession,
)
from lifeline.reports.sql import among, unix_seconds
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


def _sessions() -> Select[*tuple[Any, ...]]:
    return select(*_SESSION_COLUMNS).join(PublicSite, PublicSite.id == SupportSession.public_site_id)


def matching_sessions(selection: Selection, viewer: Viewer, *, frozen: bool = False) -> Select[*tuple[Any, ...]]:
    """The sessions of a report, in report order: by start time (or end time for a
    window of ended sessions), then lseq. `frozen`: with each one's current frozen details."""
    order = SupportSession.start_time
    if selection.window is not None and selection.window.by is WindowBy.END and not selection.lsids:
        order = SupportSession.end_time  # type: ignore[assignment]
    query = _sessions()
    if frozen:
        query = query.add_columns(current_frozen(SupportSession.id)).outerjoin(
            FrozenSessionDetails, FrozenSessionDetails.session_id == SupportSession.id
        )
    return query.where(viewer.condition(), *selection.conditions()).order_by(order, SupportSession.id)


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
    query = matching_sessions(selection, viewer, frozen=Part.EVENTS in parts)
    result = db.connection().execute(query.execution_options(yield_per=chunk, **{BINARY_RESULTS: True}))
    for rows in result.partitions():
        sessions = [SessionReport(*row) for row in rows]
        load_parts(db, sessions, parts, now)
        yield sessions


def sessions_by_id(db: Session, ids: list[int], parts: Part) -> list[SessionReport]:
    """Those sessions (in lseq order) with the parts asked for, whatever a viewer could see."""
    conn = db.connection()
    rows = conn.execute(_sessions().where(among(conn, SupportSession.id, ids)).order_by(SupportSession.id))
    sessions = [SessionReport(*tuple(row)) for row in rows]
    load_parts(db, sessions, parts, utcnow())
    return sessions


def load_parts(db: Session, sessions: Sequence[SessionReport], parts: Part, now: datetime) -> None:
    """Read the parts asked for. A frozen session's come from its frozen copy, but for team names
    (as they are now) and recordings (which may finish after the end)."""
    by_id = {s.id: s for s in sessions}
    if not by_id:
        return
    conn = db.connection()
    live = [s.id for s in sessions if s.frozen_details is None]
    frozen = [s for s in sessions if s.frozen_details is not None]
    for session in frozen:
        _from_frozen(session, parts)
    if Part.TEAMS in parts and frozen:
        _name_frozen_teams(conn, frozen)
    if Part.PARTICIPANTS in parts and live:
        for session_id, participant in _participants(conn, live, now):
            by_id[session_id].participants.append(participant)
    if Part.TEAMS in parts and live:
        for session_id, team_id, name in conn.execute(
            select(SessionTeam.session_id, Team.id, Team.name)
            .join(Team, Team.id == SessionTeam.team_id)
            .where(among(conn, SessionTeam.session_id, live))
            .order_by(SessionTeam.session_id, SessionTeam.first_at, Team.id)
        ):
            owner = by_id[session_id]
            owner.teams.append(TeamOfSession(team_id, name, team_id == owner.primary_team_id))
    if Part.ATTRIBUTES in parts and live:
        for session_id, code_name, value in conn.execute(
            select(SessionAttribute.session_id, SessionAttribute.code_name, SessionAttribute.value)
            .where(among(conn, SessionAttribute.session_id, live))
            .order_by(SessionAttribute.session_id, SessionAttribute.code_name)
        ):
            by_id[session_id].attributes[code_name] = value
    if Part.SURVEYS in parts and live:
        for session_id, survey in surveys_of(conn, live):
            by_id[session_id].surveys.append(survey)
    if Part.RECORDINGS in parts:
        for session_id, kind, instance, ended_at in conn.execute(
            select(Recording.session_id, Recording.kind, Recording.instance, Recording.ended_at)
            .where(among(conn, Recording.session_id, list(by_id)))
            .order_by(Recording.session_id, Recording.kind, Recording.instance)
        ):
            by_id[session_id].recordings.append(RecordingOfSession(kind, instance, ended_at is not None))
    if Part.EVENTS in parts and live:
        grouped: dict[int, list[Event]] = defaultdict(list)
        for event in events_of(conn, live):
            grouped[event.session_id].append(event)
        for session_id, events in grouped.items():
            by_id[session_id].events = events


def _from_frozen(session: SessionReport, parts: Part) -> None:
    assert session.frozen_details is not None
    kept = session.frozen = FrozenParts.unpacked(session.frozen_details)
    if Part.ATTRIBUTES in parts:
        session.attributes = dict(kept.attributes)
    if Part.SURVEYS in parts:
        session.surveys = list(kept.surveys)


def _name_frozen_teams(conn: Connection, sessions: list[SessionReport]) -> None:
    """Frozen sessions' teams, under their names now (a team deleted since is left out, as
    the join of a live session leaves it out)."""
    wanted = sorted({team_id for s in sessions if s.frozen for team_id in s.frozen.team_ids})
    if not wanted:
        return
    rows = conn.execute(select(Team.id, Team.name).where(among(conn, Team.id, wanted))).all()
    # Each team twice at most (primary or not), shared by the chunk's sessions.
    teams = {(t, primary): TeamOfSession(t, name, primary) for t, name in rows for primary in (False, True)}
    for s in sessions:
        assert s.frozen is not None
        primary = s.primary_team_id
        s.teams = [teams[t, t == primary] for t in s.frozen.team_ids if (t, False) in teams]


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
        .where(among(conn, p.session_id, ids))
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
    # JSON read as text (cast in SQL, or psycopg decodes it anyway) and decoded by `_json`:
    # most events carry empty lists, and decoding those through the JSON type is most of
    # the cost of reading events.
    cast(SessionEvent.data, Text).label("data"),
    cast(SessionEvent.files, Text).label("files"),
    cast(SessionEvent.system_information, Text).label("system_information"),
)


def _json(raw: Any) -> Any:
    """A JSON column's value, from its text (SQLite) or as the driver decoded it (PostgreSQL)."""
    if raw == "[]":
        return []
    if raw is None or raw == "null":
        return None
    if not isinstance(raw, str):
        return raw
    try:
        return orjson.loads(raw)  # a quarter of json's time; events are the most rows a report reads
    except orjson.JSONDecodeError:
        # What json wrote but orjson refuses: a lone surrogate's escape, NaN.
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
        event_query()
        .where(among(conn, SessionEvent.session_id, ids))
        .order_by(SessionEvent.session_id, SessionEvent.id)
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
            cast(r.answers, Text).label("answers"),  # decoded by `_json`, as events' are
        )
        .where(among(conn, r.session_id, ids))
        .order_by(r.session_id, r.id)
    ):
        yield row.session_id, SurveyAnswers(*row[1:6], _json(row.answers) or {})
