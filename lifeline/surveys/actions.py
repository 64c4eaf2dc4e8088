"""Exit surveys: the questions an admin configures, and the answers given once a session ends."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.sessions.events import Actor, ActorType, log_event
from lifeline.sessions.models import EventType, SessionError, SessionEvent, SupportSession
from lifeline.surveys.models import SurveyQuestion, SurveyResponse
from lifeline.text import check_text


class SurveyKind(enum.StrEnum):
    CUSTOMER = "customer"
    REPRESENTATIVE = "representative"


class QuestionType(enum.StrEnum):
    RADIO = "radio"
    CHECKBOX = "checkbox"
    SELECT = "select"
    TEXT = "text"
    TEXTAREA = "textarea"


CHOICE_TYPES = (QuestionType.RADIO, QuestionType.CHECKBOX, QuestionType.SELECT)
MAX_ANSWER = {QuestionType.TEXT: 255, QuestionType.TEXTAREA: 4096}
MAX_OPTIONS = 50


class SurveyError(ValueError):
    """A question or an answer that cannot be accepted; the message says why."""


def _checked_question(
    name: str, label: str, question_type: QuestionType, report_header: str, options: Sequence[str]
) -> list[str]:
    for what, value, limit in (("name", name, 100), ("label", label, 1024), ("report header", report_header, 255)):
        problem = check_text(value, limit, allow_empty=what == "report header")
        if problem:
            raise SurveyError(f"the question's {what} {problem}")
    if question_type in CHOICE_TYPES and not options:
        raise SurveyError(f"a {question_type.value} question needs options")
    if len(options) > MAX_OPTIONS:
        raise SurveyError(f"a question has at most {MAX_OPTIONS} options")
    for option in options:
        problem = check_text(option, 255)
        if problem:
            raise SurveyError(f"an option {problem}")
    if len(set(options)) != len(options):
        raise SurveyError("each option must be different")
    return list(options) if question_type in CHOICE_TYPES else []


def add_question(
    session: Session,
    survey: SurveyKind,
    *,
    name: str,
    label: str,
    question_type: QuestionType,
    report_header: str = "",
    options: Sequence[str] = (),
) -> SurveyQuestion:
    kept_options = _checked_question(name, label, question_type, report_header, options)
    position = (
        session.scalar(
            select(func.coalesce(func.max(SurveyQuestion.position), 0)).where(SurveyQuestion.survey == survey.value)
        )
        or 0
    )
    question = SurveyQuestion(
        survey=survey.value,
        name=name,
        label=label,
        report_header=report_header or label,
        question_type=question_type.value,
        options=kept_options,
        position=position + 1,
        enabled=True,
    )
    session.add(question)
    session.flush()
    return question


def update_question(
    session: Session,
    question: SurveyQuestion,
    *,
    name: str,
    label: str,
    question_type: QuestionType,
    report_header: str = "",
    options: Sequence[str] = (),
) -> SurveyQuestion:
    """Answers already given keep the values they were given with."""
    question.options = _checked_question(name, label, question_type, report_header, options)
    question.name = name
    question.label = label
    question.report_header = report_header or label
    question.question_type = question_type.value
    session.flush()
    return question


def set_question_enabled(session: Session, question: SurveyQuestion, enabled: bool) -> None:
    """A disabled question is no longer asked; its past answers stay in the reports."""
    question.enabled = enabled
    session.flush()


def move_question(session: Session, question: SurveyQuestion, offset: int) -> None:
    """Move a question up (negative) or down (positive) among its survey's questions."""
    ordered = all_questions(session, SurveyKind(question.survey))
    index = next(n for n, q in enumerate(ordered) if q.id == question.id)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    for position, each in enumerate(ordered, start=1):
        each.position = position
    session.flush()


def all_questions(session: Session, survey: SurveyKind) -> list[SurveyQuestion]:
    """Every question of a survey in order, the disabled ones too."""
    return list(
        session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey == survey.value)
            .order_by(SurveyQuestion.position, SurveyQuestion.id)
        )
    )


def questions(session: Session, survey: SurveyKind) -> list[SurveyQuestion]:
    return list(
        session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey == survey.value, SurveyQuestion.enabled.is_(True))
            .order_by(SurveyQuestion.position, SurveyQuestion.id)
        )
    )


def survey_form(session: Session, survey: SurveyKind) -> list[dict[str, Any]]:
    """A survey's questions as the consoles and customer clients show them."""
    return [
        {"id": q.id, "name": q.name, "label": q.label, "type": q.question_type, "options": q.options}
        for q in questions(session, survey)
    ]


def submit_survey(
    session: Session,
    support_session: SupportSession,
    survey: SurveyKind,
    submitter: Actor,
    answers: Mapping[int, Sequence[str]],
) -> SurveyResponse:
    """Answers to the exit survey, given once per person after the session ended."""
    if not support_session.ended:
        raise SessionError("The exit survey comes after the session ends")
    expected = ActorType.CUSTOMER if survey is SurveyKind.CUSTOMER else ActorType.REPRESENTATIVE
    if submitter.type is not expected:
        raise SurveyError(f"the {survey.value} exit survey is for the {survey.value}")
    if survey is SurveyKind.REPRESENTATIVE and not _ended_by(session, support_session, submitter):
        raise SurveyError("the representative exit survey is for the representative who ended the session")
    already = session.scalars(
        select(SurveyResponse.id).where(
            SurveyResponse.session_id == support_session.id,
            SurveyResponse.survey == survey.value,
            SurveyResponse.submitted_by_gsnumber == submitter.gsnumber,
        )
    ).first()
    if already is not None:
        raise SurveyError("this survey has already been answered")
    by_id = {q.id: q for q in questions(session, survey)}
    clean: dict[str, list[str]] = {}
    for question_id, values in answers.items():
        question = by_id.get(question_id)
        if question is None:
            raise SurveyError(f"there is no question {question_id} in this survey")
        clean[str(question_id)] = _checked(question, list(values))
    response = SurveyResponse(
        session_id=support_session.id,
        survey=survey.value,
        submitted_by_gsnumber=submitter.gsnumber,
        submitted_by_name=submitter.name,
        submitted_by_user_id=submitter.user_id,
        answers=clean,
    )
    session.add(response)
    event_type = (
        EventType.CUSTOMER_EXIT_SURVEY if survey is SurveyKind.CUSTOMER else EventType.REPRESENTATIVE_EXIT_SURVEY
    )
    data = [(by_id[int(qid)].name, ", ".join(values)) for qid, values in clean.items()]
    log_event(session, support_session, event_type, submitter, data=data)
    session.flush()
    return response


def _ended_by(session: Session, support_session: SupportSession, rep: Actor) -> bool:
    """Whether this representative's connection ended the session (its Session End event says who)."""
    ended_by = session.execute(
        select(SessionEvent.performed_by_type, SessionEvent.performed_by_gsnumber).where(
            SessionEvent.session_id == support_session.id, SessionEvent.event_type == EventType.SESSION_END.value
        )
    ).first()
    return ended_by is not None and tuple(ended_by) == (ActorType.REPRESENTATIVE.value, rep.gsnumber)


def _checked(question: SurveyQuestion, values: list[str]) -> list[str]:
    kind = QuestionType(question.question_type)
    values = [v for v in values if v != ""]
    if kind in CHOICE_TYPES:
        unknown = [v for v in values if v not in question.options]
        if unknown:
            raise SurveyError(f"{unknown[0]!r} is not an option of {question.name}")
        if kind is not QuestionType.CHECKBOX and len(values) > 1:
            raise SurveyError(f"{question.name} takes one answer")
        return values
    if len(values) > 1:
        raise SurveyError(f"{question.name} takes one answer")
    limit = MAX_ANSWER[kind]
    for value in values:
        problem = check_text(value, limit, allow_empty=True)
        if problem:
            raise SurveyError(f"the answer to {question.name} {problem}")
    return values
