"""Exit surveys: the customer's and the representative's questions, of five types (radio,
checkbox, select, text, textarea), with name, label, report header and options; added,
edited, reordered, disabled."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from lifeline.surveys import actions as surveys
from lifeline.surveys.actions import QuestionType, SurveyError, SurveyKind
from lifeline.surveys.models import SurveyQuestion
from lifeline.web.admin.base import AdminPage, FormProblem, Page, problem_text

TITLES = {SurveyKind.CUSTOMER: "Customer exit survey", SurveyKind.REPRESENTATIVE: "Representative exit survey"}
TYPES = [
    (QuestionType.RADIO, "Radio buttons (one answer)"),
    (QuestionType.CHECKBOX, "Checkboxes (any answers)"),
    (QuestionType.SELECT, "Drop-down list (one answer)"),
    (QuestionType.TEXT, "One line of text"),
    (QuestionType.TEXTAREA, "Several lines of text"),
]


def question_from(page: Page) -> dict[str, Any]:
    """The question fields of a form; options one per line."""
    options = [line.strip() for line in page.raw("options", 20_000).splitlines() if line.strip()]
    return {
        "name": page.text("name", 100),
        "label": page.text("label", 1024),
        "report_header": page.text("report_header", 255),
        "question_type": page.text("question_type", 16),
        "options": options,
    }


def checked(fields: dict[str, Any]) -> dict[str, Any]:
    if fields["question_type"] not in {t.value for t in QuestionType}:
        raise FormProblem("choose the question's type")
    return {**fields, "question_type": QuestionType(fields["question_type"])}


async def show_surveys(page: Page, *, status: int = 200, error: str | None = None, **context: Any) -> Response:
    def load(session: Session) -> dict[SurveyKind, list[SurveyQuestion]]:
        return {kind: surveys.all_questions(session, kind) for kind in SurveyKind}

    return await page.render(
        "admin/surveys.html",
        "Exit surveys",
        status=status,
        error=error,
        surveys=await page.read(load),
        titles=TITLES,
        types=TYPES,
        **context,
    )


async def surveys_page(page: Page) -> Response:
    if page.request.method == "GET":
        return await show_surveys(page)
    fields = question_from(page)
    kind = page.text("survey", 16)

    def add(session: Session) -> SurveyQuestion:
        if kind not in {k.value for k in SurveyKind}:
            raise FormProblem("choose the survey")
        return surveys.add_question(session, SurveyKind(kind), **checked(fields))

    try:
        question = await page.write(add)
    except (FormProblem, SurveyError) as problem:
        return await show_surveys(page, status=400, error=problem_text(problem), values=fields, survey=kind)
    return page.done("/login/surveys", f"The question {question.name} was added to the {question.survey} survey.")


async def question_page(page: Page) -> Response:
    question_id = page.path_id("question_id")
    question = await page.read(lambda session: session.get(SurveyQuestion, question_id))
    if question is None:
        return await page.not_found("survey question")
    context = {"question": question, "types": TYPES, "survey_title": TITLES[SurveyKind(question.survey)]}
    if page.request.method == "GET":
        values = {
            "name": question.name,
            "label": question.label,
            "report_header": question.report_header,
            "question_type": question.question_type,
            "options": question.options,
        }
        return await page.render("admin/question.html", f"Question {question.name}", values=values, **context)
    fields = question_from(page)

    def save(session: Session) -> None:
        row = session.get(SurveyQuestion, question_id)
        assert row is not None
        surveys.update_question(session, row, **checked(fields))

    try:
        await page.write(save)
    except (FormProblem, SurveyError) as problem:
        return await page.render(
            "admin/question.html",
            f"Question {question.name}",
            status=400,
            values=fields,
            error=problem_text(problem),
            **context,
        )
    return page.done("/login/surveys", f"The question {fields['name']} was saved.")


async def change_question(page: Page, change: str) -> Response:
    question_id = page.path_id("question_id")
    direction = page.text("direction", 8)

    def run(session: Session) -> str:
        question = session.get(SurveyQuestion, question_id)
        if question is None:
            raise FormProblem("there is no such survey question")
        if change == "move":
            surveys.move_question(session, question, -1 if direction == "up" else 1)
            return f"The question {question.name} moved {'up' if direction == 'up' else 'down'}."
        enabled = change == "enable"
        surveys.set_question_enabled(session, question, enabled)
        return f"The question {question.name} is {'asked again' if enabled else 'no longer asked'}."

    try:
        message = await page.write(run)
    except FormProblem as problem:
        return await show_surveys(page, status=404, error=problem_text(problem))
    return page.done("/login/surveys", message)


async def move(page: Page) -> Response:
    return await change_question(page, "move")


async def enable(page: Page) -> Response:
    return await change_question(page, "enable")


async def disable(page: Page) -> Response:
    return await change_question(page, "disable")


PAGES = [
    AdminPage("/login/surveys", surveys_page, ("GET", "POST")),
    AdminPage("/login/surveys/{question_id:id}", question_page, ("GET", "POST")),
    AdminPage("/login/surveys/{question_id:id}/move", move, ("POST",)),
    AdminPage("/login/surveys/{question_id:id}/enable", enable, ("POST",)),
    AdminPage("/login/surveys/{question_id:id}/disable", disable, ("POST",)),
]
