"""Frozen session details: ended sessions are frozen by the freezer's rounds, a report reads
a frozen copy instead of the session's events and participants while it is current, and a frozen copy
stops counting the moment the log grows or the writer's format changes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from lifeline.api.endpoint import Era
from lifeline.api.reporting import render, session_xml
from lifeline.api.reporting.links import DownloadLinks
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.models import Team, ViewReports
from lifeline.reports.criteria import Selection, Viewer
from lifeline.reports.freezing import (
    RECHECK_EVENTS,
    Freezer,
    ended_with_events_after,
    freeze_stale,
    last_event_id,
    store_frozen,
)
from lifeline.reports.frozen import FORMAT
from lifeline.reports.models import FrozenSessionDetails
from lifeline.reports.records import SessionReport
from lifeline.reports.sessions import Part, session_chunks
from lifeline.sessions import actions as engine
from lifeline.sessions import activity
from lifeline.sessions.events import SYSTEM
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queues import GENERAL, resolve_queue
from lifeline.surveys.actions import QuestionType, SurveyKind, add_question, submit_survey
from tests.engine.conftest import QueryCounter
from tests.engine.helpers import customer_session, logged_in, rep

EVERYONE = Viewer(ViewReports.ALL_SESSIONS, None, recordings=True)
ROWS_FROZEN_PARTS_HOLD = (
    "session_events.body",
    "session_participants.hostname",
    "session_teams.first_at",
    "session_attributes.code_name",
    "survey_responses.answers",
)
INFO = [activity.InfoCategory("Drives", [("drive", "Drive")], [["C:\\"]])]


def make_sessions(db: Database, ended: int, *, in_progress: int = 0) -> None:
    def work(session: Session) -> None:
        add_question(session, SurveyKind.CUSTOMER, name="rating", label="How did we do?",
                     question_type=QuestionType.RADIO, options=["Good", "Bad"])  # fmt: skip
        alice = rep(session, "alice")
        connection = logged_in(session, alice)
        for n in range(ended + in_progress):
            support_session = customer_session(session, GENERAL, name=f"Customer <{n}> & co")
            customer = engine.customer_actor(session, support_session)
            activity.record_system_information(session, support_session, customer, INFO)
            engine.take_session(session, support_session, connection, alice)
            actor = engine.rep_actor(connection, alice)
            activity.send_chat(session, support_session, customer, "bytes \x00 XML cannot carry")
            activity.send_chat(session, support_session, actor, f"line {n}")
            if n < ended:
                engine.end_session(session, support_session, SYSTEM)

    db.call(work)


def reports(db: Database) -> list[SessionReport]:
    return db.call(lambda s: [r for chunk in session_chunks(s, Selection(), EVERYONE, Part.EVERYTHING) for r in chunk])


def freeze_round(freezer: Freezer) -> int:
    return asyncio.run(freezer.round())


def written(sessions: list[SessionReport]) -> list[bytes]:
    view = render.View(
        era=Era.LATER,
        zone=ZoneInfo("Europe/Paris"),
        links=DownloadLinks("s" * 64, "https://support.example.com"),
        recordings=True,
        now=datetime(2030, 1, 1, tzinfo=UTC),
        questions={},
        attribute_names={},
    )
    return [session_xml.session_text(view, s) for s in sessions]


def test_ended_sessions_are_frozen_and_reports_then_read_one_value_per_session(
    db: Database, queries: QueryCounter
) -> None:
    make_sessions(db, 3, in_progress=1)
    before = reports(db)
    assert [s.frozen_details is None for s in before] == [True] * 4

    assert freeze_round(Freezer(db, session_xml.frozen_parts)) == 3  # the session still in progress is left alone
    queries.statements.clear()
    after = reports(db)
    assert [s.frozen_details is not None for s in after] == [True, True, True, False]
    assert [len(s.events) for s in after[:3]] == [0, 0, 0] and after[3].events
    assert [s.participants for s in after[:3]] == [[], [], []]
    # Events, participants, teams and surveys are read once for the chunk, for the live
    # session only...
    for column in ROWS_FROZEN_PARTS_HOLD:
        assert len(reading(queries, column)) == 1, column
    assert written(after) == written(before)

    def end_the_last(session: Session) -> None:
        last = session.scalars(select(SupportSession).order_by(SupportSession.id.desc())).first()
        assert last is not None
        engine.end_session(session, last, SYSTEM)

    db.call(end_the_last)
    assert freeze_round(Freezer(db, session_xml.frozen_parts)) == 1
    queries.statements.clear()
    assert all(s.frozen_details is not None for s in reports(db))
    # ...and not at all once every session is frozen (but for the teams' names now).
    for column in ROWS_FROZEN_PARTS_HOLD:
        assert reading(queries, column) == [], column


def reading(queries: QueryCounter, column: str) -> list[str]:
    return [statement for statement in queries.statements if column in statement]


def test_a_frozen_copy_stops_counting_when_the_log_grows_and_is_frozen_again(db: Database) -> None:
    make_sessions(db, 2)
    freezer = Freezer(db, session_xml.frozen_parts)
    assert freeze_round(freezer) == 2
    assert freeze_round(freezer) == 0  # nothing new

    def survey_after_the_end(session: Session) -> None:
        first = session.scalars(select(SupportSession).order_by(SupportSession.id)).first()
        assert first is not None
        submit_survey(session, first, SurveyKind.CUSTOMER, engine.customer_actor(session, first), {1: ["Good"]})

    db.call(survey_after_the_end)
    grown = reports(db)
    assert grown[0].frozen_details is None and grown[0].events[-1].event_type == "Customer Exit Survey"
    assert grown[1].frozen_details is not None
    live = written(grown)

    assert freeze_round(freezer) == 1  # the incremental round finds it by its new event
    refrozen = reports(db)
    assert refrozen[0].frozen_details is not None
    assert written(refrozen) == live
    assert b"Customer Exit Survey" in written(refrozen)[0]


def test_frozen_copies_of_another_format_are_not_used_and_a_full_sweep_replaces_them(db: Database) -> None:
    make_sessions(db, 2)
    freeze_round(Freezer(db, session_xml.frozen_parts))
    expected = written(reports(db))
    db.call(lambda s: s.execute(update(FrozenSessionDetails).values(format=FORMAT - 1, xml=b"not what we write")))
    assert [s.frozen_details for s in reports(db)] == [None, None]
    assert written(reports(db)) == expected

    assert (
        freeze_round(Freezer(db, session_xml.frozen_parts)) == 2
    )  # a new process starts with a sweep of every ended session
    assert db.call(lambda s: s.scalar(select(func.count()).where(FrozenSessionDetails.format == FORMAT))) == 2
    assert written(reports(db)) == expected


def test_a_restore_makes_the_next_round_look_at_every_ended_session(db: Database) -> None:
    make_sessions(db, 2)
    restores = [0]
    freezer = Freezer(db, session_xml.frozen_parts, lambda: restores[0])
    assert freeze_round(freezer) == 2
    # A restored backup replaced the data: no frozen copies, and events older than the watermark.
    db.call(lambda s: s.execute(delete(FrozenSessionDetails)))
    freezer.watermark += RECHECK_EVENTS + 1000
    assert freeze_round(freezer) == 0  # an ordinary round only looks at newer events
    restores[0] += 1
    assert freeze_round(freezer) == 2


def test_a_frozen_session_shows_its_teams_under_their_names_now(db: Database) -> None:
    def work(session: Session) -> None:
        team = directory.add_team(session, "Printers")
        alice = rep(session, "alice", team=team)
        support_session = customer_session(session, resolve_queue(session, f"team:{team.id}"))
        engine.take_session(session, support_session, logged_in(session, alice), alice)
        engine.end_session(session, support_session, SYSTEM)

    db.call(work)
    assert freeze_round(Freezer(db, session_xml.frozen_parts)) == 1

    def rename(session: Session) -> None:
        team = session.scalars(select(Team).where(Team.name == "Printers")).one()
        directory.update_team(session, team, name="Printers & Scanners")

    db.call(rename)
    [frozen] = reports(db)
    assert frozen.frozen is not None
    assert [(t.name, t.primary) for t in frozen.teams] == [("Printers & Scanners", True)]
    team = f'<team id="{frozen.teams[0].id}" primary_team="1">Printers &amp; Scanners</team>'
    assert team.encode() in written([frozen])[0]


def test_an_older_frozen_copy_does_not_replace_a_later_one(db: Database) -> None:
    make_sessions(db, 1)
    _, [early] = db.call(freeze_stale, session_xml.frozen_parts, 0, 0)
    db.call(store_frozen, [replace(early, through_event_id=early.through_event_id + 5, xml=b"later")])
    db.call(store_frozen, [early])  # a slower process, with what it read before
    row = db.call(lambda s: s.get(FrozenSessionDetails, early.session_id))
    assert row is not None and (row.through_event_id, row.xml) == (early.through_event_id + 5, b"later")


def test_a_round_looks_only_at_ended_sessions_with_new_events_and_starts_from_the_new_events(db: Database) -> None:
    """While reps chat, most new events belong to live sessions: the round's query leaves
    them in the database and reads the log from the last event it saw, not every session."""
    make_sessions(db, 3, in_progress=2)

    def ask(session: Session, since: int, after: int, limit: int = 200) -> list[int]:
        return list(session.scalars(ended_with_events_after(session, since, after, limit)))

    ids = db.call(lambda s: list(s.scalars(select(SupportSession.id).order_by(SupportSession.id))))
    assert db.call(ask, 0, 0) == ids[:3]  # every session had events; the two live ones are left out
    assert db.call(ask, 0, ids[0], 1) == ids[1:2]  # after a session, a page at a time
    assert db.call(ask, db.call(last_event_id), 0) == []

    def survey_after_the_end(session: Session) -> None:
        second = session.get(SupportSession, ids[1])
        assert second is not None
        submit_survey(session, second, SurveyKind.CUSTOMER, engine.customer_actor(session, second), {1: ["Good"]})

    seen = db.call(last_event_id)
    db.call(survey_after_the_end)
    assert db.call(ask, seen, 0) == [ids[1]]
    if db.engine.dialect.name == "sqlite":
        plan = db.call(
            lambda s: " ".join(str(row) for row in s.execute(text("EXPLAIN QUERY PLAN " + compiled(s, seen))))
        )
        assert "ix_support_sessions_status" not in plan and "USING INTEGER PRIMARY KEY (rowid>?)" in plan, plan


def compiled(session: Session, since: int) -> str:
    statement = ended_with_events_after(session, since, 0, 200)
    return str(statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
