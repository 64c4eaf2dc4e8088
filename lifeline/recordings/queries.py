"""Reads of recordings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.recordings.models import Recording
from lifeline.sessions.models import SupportSession


@dataclass(frozen=True)
class StoredRecording:
    lsid: str
    session_id: int
    kind: str
    instance: int
    storage_name: str
    content_type: str
    finished: bool


def find_recording(session: Session, lsid: str, kind: str, instance: int = 0) -> StoredRecording | None:
    row = session.execute(
        select(
            SupportSession.lsid,
            SupportSession.id,
            Recording.kind,
            Recording.instance,
            Recording.storage_name,
            Recording.content_type,
            Recording.ended_at,
        )
        .join(SupportSession, SupportSession.id == Recording.session_id)
        .where(SupportSession.lsid == lsid.lower(), Recording.kind == kind, Recording.instance == instance)
    ).first()
    if row is None:
        return None
    return StoredRecording(*row[:6], finished=row[6] is not None)
