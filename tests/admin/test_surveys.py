"""Exit surveys in /login: questions of the five types added, edited, reordered, disabled."""

from __future__ import annotations

import re

import pytest

from tests.admin.helpers import AdminClient
from tests.support.appliance import RunningAppliance


def question_ids(admin: AdminClient, survey: str) -> list[int]:
    page = admin.get("/login/surveys").text
    section = page.split(f'id="survey-{survey}"')[1].split("</section>")[0]
    return [int(n) for n in re.findall(r'href="/login/surveys/(\d+)"', section)]


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("radio", "Great\nPoor"),
        ("checkbox", "Printer\nEmail\nVPN"),
        ("select", "Yes\nNo"),
        ("text", ""),
        ("textarea", ""),
    ],
)
def test_each_of_the_five_types_is_added(
    admin: AdminClient, appliance: RunningAppliance, kind: str, options: str
) -> None:
    response = admin.post(
        "/login/surveys",
        {
            "survey": "customer",
            "name": f"q_{kind}",
            "label": f"A {kind} question?",
            "report_header": f"{kind.title()} header",
            "question_type": kind,
            "options": options,
        },
    )
    assert response.status_code == 303, response.text
    assert f"The question q_{kind} was added to the customer survey." in admin.get("/login/surveys").text
    added = next(q for q in appliance.cli_json("survey", "list") if q["name"] == f"q_{kind}")
    assert (added["type"], added["options"], added["report_header"]) == (
        kind,
        options.split("\n") if options else [],
        f"{kind.title()} header",
    )


def test_a_question_is_edited_moved_and_disabled(admin: AdminClient, appliance: RunningAppliance) -> None:
    for name in ("resolved", "minutes"):
        admin.post(
            "/login/surveys",
            {"survey": "representative", "name": name, "label": f"{name}?", "question_type": "text"},
        )
    first, second = question_ids(admin, "representative")
    edited = admin.post(
        f"/login/surveys/{first}",
        {"name": "resolved", "label": "Was it resolved?", "question_type": "select", "options": "Yes\r\nNo\r\n"},
    )
    assert edited.status_code == 303
    admin.post(f"/login/surveys/{second}/move", {"direction": "up"})
    assert question_ids(admin, "representative") == [second, first]
    admin.post(f"/login/surveys/{second}/disable")
    listed = [q for q in appliance.cli_json("survey", "list") if q["survey"] == "representative"]
    assert [(q["name"], q["type"], q["options"], q["enabled"]) for q in listed] == [
        ("minutes", "text", [], False),
        ("resolved", "select", ["Yes", "No"], True),
    ]
    assert "no longer asked" in admin.get("/login/surveys").text
    admin.post(f"/login/surveys/{second}/enable")
    assert all(q["enabled"] for q in appliance.cli_json("survey", "list") if q["survey"] == "representative")


def test_survey_problems_are_shown_in_the_form(admin: AdminClient) -> None:
    for fields, message in (
        ({"question_type": "radio", "options": ""}, "A radio question needs options."),
        ({"question_type": "select", "options": "a\na"}, "Each option must be different."),
        ({"question_type": "dial"}, "Choose the question&#39;s type."),
        ({"question_type": "text", "name": ""}, "The question&#39;s name must not be empty."),
    ):
        data = {"survey": "customer", "name": "broken", "label": "Broken?", **fields}
        response = admin.post("/login/surveys", data)
        assert response.status_code == 400, fields
        assert message in response.text, fields
    assert admin.get("/login/surveys/99999").status_code == 404
