"""Reads of sessions and session keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.sessions.models import SessionAttribute, SessionParticipant, SupportSession


def session_by_lsid(session: Session, lsid: str) -> SupportSession | None:
    return session.scalars(select(SupportSession).where(SupportSession.lsid == lsid.lower())).first()


@dataclass(frozen=True)
class AttributeValue:
    code_name: str
    value: str


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


@dataclass(frozen=True)
class Participation:
    lsid: str
    role: str  # owner, conference_member or customer
    joined_at_iso: str


def live_participations(session: Session, gsnumbers: list[int]) -> dict[int, list[tuple[str, str]]]:
    """For each gsnumber, the sessions it is in right now as (lsid, role)."""
    rows = session.execute(
        select(
            SessionParticipant.gsnumber,
            SessionParticipant.role,
            SupportSession.lsid,
            SupportSession.owner_gsnumber,
        )
        .join(SupportSession, SupportSession.id == SessionParticipant.session_id)
        .where(
            SessionParticipant.gsnumber.in_(gsnumbers),
            SessionParticipant.joined_at.is_not(None),
            SupportSession.status != "ended",
        )
        .order_by(SupportSession.id)
    ).all()
    result: dict[int, list[tuple[str, str]]] = {}
    for gsnumber, role, lsid, owner in rows:
        kind = "customer" if role == "customer" else ("owner" if owner == gsnumber else "conference_member")
        result.setdefault(gsnumber, []).append((lsid, kind))
    return result
