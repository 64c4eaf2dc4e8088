"""SupportCustExitSurvey and SupportRepExitSurvey."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from lifeline.surveys.models import SurveyQuestion
from tests.support.appliance import RunningAppliance
from tests.support.history import History
from tests.support.personas import Personas
from tests.support.reporting import NO_DATA, Reporters, ReportingApi, child, children, tags, text

ALL_TIME = {"start_date": "2000-01-01", "duration": "0"}


def surveys(reporting: ReportingApi, reporters: Reporters, report: str, **params: object) -> dict[str, list]:  # type: ignore[type-arg]
    root = reporting.call(report, reporters.everything.params, ns=True, **{**ALL_TIME, **params})
    found: dict[str, list] = {}  # type: ignore[type-arg]
    for survey in children(root, "exit_survey"):
        found.setdefault(survey.get("lsid") or "", []).append(survey)
    return found


def test_a_customer_survey_carries_the_session_and_every_question_with_its_answers(
    reporting: ReportingApi, reporters: Reporters, personas: Personas, history: History
) -> None:
    found = surveys(reporting, reporters, "SupportCustExitSurvey", report_type="rep", id="all")
    assert set(found) == {history.full, history.transferred, history.presentation}
    survey = found[history.full][0]
    assert tags(survey) == [
        "session_type",
        "public_site",
        "submitted_by",
        "primary_customer",
        "primary_rep",
        "primary_team",
        "customer_list",
        "rep_list",
        "team_list",
        "rep_resolved",
        "question_list",
    ]
    assert survey.get("ts") == survey.get("timestamp") and (survey.get("ts") or "").isdigit()
    submitted = child(survey, "submitted_by")
    assert (submitted.get("type"), submitted.text) == ("cust", "Pat Customer")
    assert child(survey, "primary_customer").get("id") == "0"
    assert (child(survey, "primary_rep").get("id"), text(survey, "primary_rep")) == (
        str(personas.rep_a.id),
        "Alice Rep",
    )
    assert text(survey, "rep_resolved") == "0"
    questions = children(child(survey, "question_list"), "question")
    first = questions[0]
    assert tags(first) == ["name", "type", "label", "report_header", "answer_list"]
    assert [text(first, t) for t in ("name", "type", "label", "report_header")] == [
        "rating",
        "radio",
        "How did we do?",
        "Rating",
    ]
    assert [[a.text for a in children(child(q, "answer_list"), "answer")] for q in questions] == [
        ["Good"],
        ["Printer", "VPN"],
        ["Quick & kind <3"],
    ]


def test_rep_surveys_are_submitted_by_the_rep(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    found = surveys(reporting, reporters, "SupportRepExitSurvey", report_type="rep", id="all")
    assert list(found) == [history.full, history.presentation]
    submitted = child(found[history.full][0], "submitted_by")
    assert (submitted.get("type"), submitted.text, submitted.get("gsnumber")) == (
        "rep",
        "Alice Rep",
        str(history.logins.rep_a),
    )


@pytest.mark.parametrize(
    ("report_type", "who", "expected"),
    [
        ("rep", "rep_a", "full"),
        ("rep", "rep_b", "transferred"),
        ("rep", "admin", "presentation"),
        ("team", "team_a", "full"),
        ("team", "team_b", "transferred"),
        ("team", "all", "full transferred"),
    ],
)
def test_surveys_are_filtered_by_the_last_rep_or_team(
    reporting: ReportingApi,
    reporters: Reporters,
    personas: Personas,
    history: History,
    report_type: str,
    who: str,
    expected: str,
) -> None:
    ids = {"rep_a": personas.rep_a.id, "rep_b": personas.rep_b.id, "admin": personas.admin.id}
    ids |= {"team_a": personas.team_a, "team_b": personas.team_b, "all": "all"}  # type: ignore[dict-item]
    found = surveys(reporting, reporters, "SupportCustExitSurvey", report_type=report_type, id=ids[who])
    assert set(found) == {getattr(history, name) for name in expected.split()}


def test_only_the_default_sites_surveys_unless_site_id_says_otherwise(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    found = surveys(
        reporting, reporters, "SupportCustExitSurvey", report_type="rep", id="all", site_id=history.other_site_id
    )
    assert list(found) == [history.other_site]


def test_questions_are_shown_as_they_are_configured_now(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    appliance.call(
        lambda s: s.execute(
            update(SurveyQuestion).where(SurveyQuestion.name == "summary").values(label="In a sentence")
        )
    )
    found = surveys(reporting, reporters, "SupportRepExitSurvey", report_type="rep", id="all")
    questions = children(child(found[history.full][0], "question_list"), "question")
    assert [text(q, "label") for q in questions] == ["Was it resolved?", "In a sentence"]


def test_the_integrations_query_of_a_ten_second_window_around_the_start(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = children(reporting.call("SupportSession", reporters.everything.params, lsid=history.full), "session")[0]
    start = int(child(session, "start_time").get("timestamp") or "")
    found = reporting.call(
        "SupportCustExitSurvey",
        reporters.everything.params,
        start_time=start - 5,
        duration=10,
        report_type="rep",
        id="all",
    )
    assert history.full in {s.get("lsid") for s in children(found, "exit_survey")}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"report_type": "site", "id": "all"}, "The parameter report_type must be rep or team."),
        ({"report_type": "rep"}, "The required parameter id is missing."),
        ({"report_type": "rep", "id": "everyone"}, "The parameter id must be all or a numeric ID."),
    ],
)
def test_bad_survey_parameters(
    reporting: ReportingApi, reporters: Reporters, params: dict[str, str], message: str
) -> None:
    root = reporting.call("SupportCustExitSurvey", reporters.everything.params, ns=True, **ALL_TIME, **params)
    assert [c.text for c in root] == [message]


def test_no_surveys(reporting: ReportingApi, reporters: Reporters) -> None:
    params = {"start_time": int(time.time()) + 3600, "duration": 0, "report_type": "rep", "id": "all"}
    assert len(reporting.call("SupportRepExitSurvey", reporters.everything.params, ns=True, **params)) == 0
    assert reporting.call("SupportRepExitSurvey", reporters.everything.params, **params).text == NO_DATA
