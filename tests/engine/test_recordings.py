"""Recordings: command shells as asciicast v2, screens as WebM, numbered and logged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.recordings.actions import RecordingError, RecordingKind
from lifeline.recordings.asciicast import plain_output
from lifeline.recordings.models import Recording
from lifeline.recordings.recorder import record_command_shell, record_screen
from lifeline.recordings.store import RecordingStore
from lifeline.sessions import actions as engine
from lifeline.sessions.events import SYSTEM, Actor
from lifeline.sessions.models import SessionEvent
from lifeline.sessions.queues import GENERAL
from tests.engine.helpers import customer_session, logged_in, rep
from tests.support.activity import WEBM_HEADER


def owned(db: Database) -> tuple[str, Actor]:
    def work(session: Session) -> tuple[str, Actor]:
        alice = rep(session, "alice")
        connection = logged_in(session, alice)
        support_session = customer_session(session, GENERAL)
        engine.take_session(session, support_session, connection, alice)
        return support_session.lsid, engine.rep_actor(connection, alice)

    return db.call(work)


def test_command_shells_are_numbered_logged_and_written_as_asciicast(db: Database, tmp_path: Path) -> None:
    lsid, alice = owned(db)
    store = RecordingStore(tmp_path / "recordings")
    for expected in (0, 1):
        with record_command_shell(db, store, lsid, alice, width=100, height=30) as shell:
            assert shell.instance == expected
            shell.input("dir\r", at=0.25)
            shell.output("\x1b[32mC:\\>\x1b[0m dir\r\n", at=0.5)
            shell.resize(120, 40, at=1.0)
    rows = db.call(lambda s: s.scalars(select(Recording).order_by(Recording.instance)).all())
    assert [(r.kind, r.instance, r.content_type) for r in rows] == [
        ("command_shell", 0, "application/x-asciicast"),
        ("command_shell", 1, "application/x-asciicast"),
    ]
    assert all(r.ended_at is not None and r.size > 0 for r in rows)
    lines = store.path_for(rows[1].storage_name).read_bytes().splitlines()
    header = json.loads(lines[0])
    assert (header["version"], header["width"], header["height"]) == (2, 100, 30)
    assert [json.loads(line) for line in lines[1:]] == [
        [0.25, "i", "dir\r"],
        [0.5, "o", "\x1b[32mC:\\>\x1b[0m dir\r\n"],
        [1.0, "r", "120x40"],
    ]
    assert plain_output(lines) == "C:\\> dir\n"
    events = db.call(
        lambda s: s.scalars(
            select(SessionEvent.data).where(SessionEvent.event_type == "Command Shell Session Started")
        ).all()
    )
    assert events == [[["instance", "0"]], [["instance", "1"]]]


def test_a_screen_recording_is_webm_kept_as_it_comes(db: Database, tmp_path: Path) -> None:
    lsid, _ = owned(db)
    store = RecordingStore(tmp_path / "recordings")
    with record_screen(db, store, lsid) as recording:
        recording.write(WEBM_HEADER)
        recording.write(b"cluster" * 100)
    row = db.call(lambda s: s.scalars(select(Recording)).one())
    assert (row.kind, row.content_type, row.size) == ("screen", "video/webm", len(WEBM_HEADER) + 700)
    assert store.path_for(row.storage_name).read_bytes().startswith(WEBM_HEADER)
    with pytest.raises(RecordingError, match="already has a screen recording"):
        record_screen(db, store, lsid)


def test_what_is_not_webm_is_refused(db: Database, tmp_path: Path) -> None:
    lsid, _ = owned(db)
    recording = record_screen(db, RecordingStore(tmp_path), lsid, RecordingKind.PRESENTATION)
    with pytest.raises(RecordingError, match="must be WebM"):
        recording.write(b"FLV\x01")
    recording.close()


def test_an_ended_or_unknown_session_cannot_be_recorded(db: Database, tmp_path: Path) -> None:
    lsid, alice = owned(db)
    store = RecordingStore(tmp_path)
    with pytest.raises(RecordingError, match="No session"):
        record_screen(db, store, "0" * 32)

    def end(session: Session) -> None:
        from lifeline.sessions.queries import session_by_lsid

        found = session_by_lsid(session, lsid)
        assert found is not None
        engine.end_session(session, found, SYSTEM)

    db.call(end)
    with pytest.raises(RecordingError, match="already ended"):
        record_command_shell(db, store, lsid, alice)


def test_storage_names_cannot_leave_the_store(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    with pytest.raises(ValueError, match="storage name"):
        store.path_for("../../etc/passwd")
