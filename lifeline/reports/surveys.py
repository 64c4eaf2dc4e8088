"""Exit surveys as reports show them: every survey submitted, with the questions as they
are configured now (SupportCustExitSurvey, SupportRepExitSurvey)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.reports.answers import SurveyAnswers
from lifeline.reports.criteria import Selection, Viewer
from lifeline.reports.records import Question, SessionReport
from lifeline.reports.sessions import Part, session_chunks
from lifeline.surveys.models import SurveyQuestion


def questions_now(db: Session, survey: str) -> list[Question]:
    """The survey's questions as an admin configured them now, in their order."""
    q = SurveyQuestion
    rows = db.execute(
        select(q.id, q.name, q.question_type, q.label, q.report_header)
        .where(q.survey == survey, q.enabled.is_(True))
        .order_by(q.position, q.id)
    )
    return [Question(*row) for row in rows]


def submitted_surveys(
    db: Session, selection: Selection, viewer: Viewer, survey: str, *, now: datetime | None = None
) -> Iterator[tuple[SessionReport, SurveyAnswers]]:
    """Each survey of that kind submitted for the sessions selected, in session order."""
    selection = replace(selection, with_survey=survey)
    for chunk in session_chunks(db, selection, viewer, Part.PARTICIPANTS | Part.TEAMS | Part.SURVEYS, now=now):
        for session in chunk:
            for answers in session.surveys:
                if answers.survey == survey:
                    yield session, answers
