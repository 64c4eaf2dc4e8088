"""Exit surveys: questions of five types and answers checked against them."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.sessions import actions as engine
from lifeline.sessions.events import SYSTEM
from lifeline.sessions.models import SessionEvent
from lifeline.sessions.queues import GENERAL
from lifeline.surveys.actions import (
    QuestionType,
    SurveyError,
    SurveyKind,
    add_question,
    all_questions,
    move_question,
    questions,
    set_question_enabled,
    submit_survey,
    update_question,
)
from tests.engine.helpers import customer_session


def ended_session_with_questions(session: Session):  # type: ignore[no-untyped-def]
    rating = add_question(
        session,
        SurveyKind.CUSTOMER,
        name="rating",
        label="How did we do?",
        question_type=QuestionType.RADIO,
        options=["Good", "Bad"],
    )
    topics = add_question(
        session,
        SurveyKind.CUSTOMER,
        name="topics",
        label="What about?",
        question_type=QuestionType.CHECKBOX,
        options=["Printer", "Email", "VPN"],
    )
    comments = add_question(
        session, SurveyKind.CUSTOMER, name="comments", label="Comments", question_type=QuestionType.TEXTAREA
    )
    support_session = customer_session(session, GENERAL)
    return support_session, rating, topics, comments


def test_a_customer_answers_once_after_the_session_and_it_is_logged(db: Database) -> None:
    def work(session: Session) -> None:
        support_session, rating, topics, comments = ended_session_with_questions(session)
        customer = engine.customer_actor(session, support_session)
        with pytest.raises(engine.SessionError, match="after the session ends"):
            submit_survey(session, support_session, SurveyKind.CUSTOMER, customer, {rating.id: ["Good"]})
        engine.end_session(session, support_session, customer)
        submit_survey(
            session,
            support_session,
            SurveyKind.CUSTOMER,
            customer,
            {rating.id: ["Good"], topics.id: ["Printer", "VPN"], comments.id: ["Quick & kind <3"]},
        )
        event = session.scalars(select(SessionEvent).where(SessionEvent.event_type == "Customer Exit Survey")).one()
        assert event.data == [["rating", "Good"], ["topics", "Printer, VPN"], ["comments", "Quick & kind <3"]]
        with pytest.raises(SurveyError, match="already been answered"):
            submit_survey(session, support_session, SurveyKind.CUSTOMER, customer, {rating.id: ["Bad"]})

    db.call(work)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"rating": ["Great"]}, "not an option"),
        ({"rating": ["Good", "Bad"]}, "takes one answer"),
        ({"comments": ["x" * 5000]}, "at most 4096"),
        ({"nope": ["x"]}, "no question"),
    ],
)
def test_answers_must_fit_their_question(db: Database, answer: dict[str, list[str]], message: str) -> None:
    def work(session: Session) -> None:
        support_session, rating, topics, comments = ended_session_with_questions(session)
        engine.end_session(session, support_session, SYSTEM)
        ids = {"rating": rating.id, "topics": topics.id, "comments": comments.id, "nope": 9999}
        with pytest.raises(SurveyError, match=message):
            submit_survey(
                session,
                support_session,
                SurveyKind.CUSTOMER,
                engine.customer_actor(session, support_session),
                {ids[name]: values for name, values in answer.items()},
            )

    db.call(work)


def test_choice_questions_need_options(db: Database) -> None:
    with pytest.raises(SurveyError, match="needs options"):
        db.call(
            lambda s: add_question(s, SurveyKind.REPRESENTATIVE, name="x", label="X", question_type=QuestionType.SELECT)
        )


def test_questions_are_edited_reordered_and_disabled(db: Database) -> None:
    def run(session: Session) -> tuple[list[str], list[str], list[str]]:
        first = add_question(session, SurveyKind.REPRESENTATIVE, name="a", label="A?", question_type=QuestionType.TEXT)
        second = add_question(
            session, SurveyKind.REPRESENTATIVE, name="b", label="B?", question_type=QuestionType.SELECT, options=["x"]
        )
        third = add_question(
            session, SurveyKind.REPRESENTATIVE, name="c", label="C?", question_type=QuestionType.TEXTAREA
        )
        update_question(
            session,
            second,
            name="resolved",
            label="Resolved?",
            question_type=QuestionType.RADIO,
            report_header="Resolved",
            options=["Yes", "No"],
        )
        assert (second.question_type, second.options, second.report_header) == ("radio", ["Yes", "No"], "Resolved")
        move_question(session, third, -2)
        move_question(session, first, 1)
        set_question_enabled(session, second, False)
        asked = [q.name for q in questions(session, SurveyKind.REPRESENTATIVE)]
        everything = [q.name for q in all_questions(session, SurveyKind.REPRESENTATIVE)]
        move_question(session, third, -5)  # already first: stays first
        return asked, everything, [q.name for q in all_questions(session, SurveyKind.REPRESENTATIVE)]

    assert db.call(run) == (["c", "a"], ["c", "resolved", "a"], ["c", "resolved", "a"])


def test_an_edited_choice_question_still_needs_distinct_options(db: Database) -> None:
    def run(session: Session) -> None:
        question = add_question(
            session, SurveyKind.CUSTOMER, name="q", label="Q?", question_type=QuestionType.RADIO, options=["a", "b"]
        )
        update_question(session, question, name="q", label="Q?", question_type=QuestionType.RADIO, options=["a", "a"])

    with pytest.raises(SurveyError, match="different"):
        db.call(run)
