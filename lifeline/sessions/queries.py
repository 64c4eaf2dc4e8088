"""Reads of sessions and session keys."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.directory.models import Issue
from lifeline.sessions.models import (
    PRESENTATION,
    EventType,
    SessionAttribute,
    SessionEvent,
    SessionFile,
    SessionParticipant,
    SessionStatus,
    SupportSession,
)


def session_by_lsid(session: Session, lsid: str, *, to_change: bool = False) -> SupportSession | None:
    """`to_change`: the caller will change the session, so its row is locked until commit. On
    PostgreSQL several writers run at once: two reps taking one waiting session at the same
    moment would otherwise both see it waiting and both become its owner. (SQLite has one
    writer, and SQLAlchemy leaves FOR UPDATE out there.)"""
    query = select(SupportSession).where(SupportSession.lsid == lsid.lower())
    return session.scalars(query.with_for_update() if to_change else query).first()


def sessions_by_lsid(session: Session, lsids: list[str]) -> list[SupportSession]:
    found: list[SupportSession] = []
    for start in range(0, len(lsids), 500):  # a bounded IN list per query
        found += session.scalars(select(SupportSession).where(SupportSession.lsid.in_(lsids[start : start + 500])))
    return found


def session_attributes(session: Session, support_session: SupportSession) -> dict[str, str]:
    """Every `session.custom.*` value the session has, external_key included."""
    values = {"external_key": support_session.external_key}
    values.update(
        session.execute(
            select(SessionAttribute.code_name, SessionAttribute.value).where(
                SessionAttribute.session_id == support_session.id
            )
        ).all()
    )
    return values


def live_participations(session: Session, gsnumbers: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """For each gsnumber, the sessions it is in right now as (session_type, lsid, role): a
    support session's customer, owner or conference_member; a presentation's presenter or attendee."""
    rows = session.execute(
        select(
            SessionParticipant.gsnumber,
            SessionParticipant.role,
            SupportSession.lsid,
            SupportSession.owner_gsnumber,
            SupportSession.session_type,
        )
        .join(SupportSession, SupportSession.id == SessionParticipant.session_id)
        .where(
            SessionParticipant.gsnumber.in_(gsnumbers),
            SessionParticipant.joined_at.is_not(None),
            SupportSession.status != SessionStatus.ENDED.value,
        )
        .order_by(SupportSession.id)
    ).all()
    result: dict[int, list[tuple[str, str, str]]] = {}
    for gsnumber, role, lsid, owner, session_type in rows:
        if session_type == PRESENTATION:
            kind = "presenter" if owner == gsnumber else "attendee"
        else:
            kind = "customer" if role == "customer" else ("owner" if owner == gsnumber else "conference_member")
        result.setdefault(gsnumber, []).append((session_type, lsid, kind))
    return result


def joined_now(session: Session, support_session: SupportSession, role: str, gsnumber: int) -> bool:
    """Whether the connection takes part in the session right now (as "customer" or "representative")."""
    return (
        session.scalars(
            select(SessionParticipant.id).where(
                SessionParticipant.session_id == support_session.id,
                SessionParticipant.role == role,
                SessionParticipant.gsnumber == gsnumber,
                SessionParticipant.joined_at.is_not(None),
            )
        ).first()
        is not None
    )


def waiting_sessions(session: Session) -> list[SupportSession]:
    return list(
        session.scalars(
            select(SupportSession)
            .where(SupportSession.status == SessionStatus.WAITING.value)
            .order_by(SupportSession.id)
        )
    )


def sessions_joined_by(session: Session, gsnumber: int) -> list[SupportSession]:
    """Sessions a connection is in right now."""
    return list(
        session.scalars(
            select(SupportSession)
            .join(SessionParticipant, SessionParticipant.session_id == SupportSession.id)
            .where(
                SessionParticipant.gsnumber == gsnumber,
                SessionParticipant.joined_at.is_not(None),
                SupportSession.status != SessionStatus.ENDED.value,
            )
            .order_by(SupportSession.id)
        )
    )


def events_after(session: Session, support_session: SupportSession, after_id: int) -> list[SessionEvent]:
    return list(
        session.scalars(
            select(SessionEvent)
            .where(SessionEvent.session_id == support_session.id, SessionEvent.id > after_id)
            .order_by(SessionEvent.id)
        )
    )


def referenced_files(session: Session, digests: list[str]) -> set[str]:
    """Which of these file store digests a session's file still references."""
    return set(session.scalars(select(SessionFile.sha256).where(SessionFile.sha256.in_(digests))))


def issues_picked(session: Session, session_ids: list[int]) -> dict[int, str]:
    """The issue each session's customer picked, by its title (by its code name if the issue
    was removed since): read from the Session Start event, which logs the issue's code name
    however it was picked (the session's customer_issue is the numeric id the reports give)."""
    codes: dict[int, str] = {}
    for session_id, data in session.execute(
        select(SessionEvent.session_id, SessionEvent.data).where(
            SessionEvent.session_id.in_(session_ids), SessionEvent.event_type == EventType.SESSION_START.value
        )
    ):
        code = next((str(value) for name, value in data if name == "issue"), "")
        if code:
            codes[session_id] = code
    titles = dict(
        session.execute(select(Issue.code_name, Issue.title).where(Issue.code_name.in_(set(codes.values())))).all()
    )
    return {session_id: titles.get(code, code) for session_id, code in codes.items()}
