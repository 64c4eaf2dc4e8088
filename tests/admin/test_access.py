"""Who may open what: every /login page enumerated from the route table. Admin pages answer
an admin and refuse a rep with 403; every change needs its form token; a signed-out visitor
is sent to sign in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from lifeline.jump.models import JumpGroup
from lifeline.web.admin import PAGES
from lifeline.web.admin.base import Access
from tests.admin.helpers import AdminClient
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas

PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@pytest.fixture(scope="module")
def ids(appliance: RunningAppliance, personas: Personas) -> dict[str, str]:
    question = appliance.cli_json("survey", "add", "customer", "--name", "q", "--label", "Q?", "--type", "text")
    attribute = appliance.cli_json("custom-attribute", "add", "ticket", "Ticket")
    return {
        "user_id": str(personas.rep_b.id),
        "team_id": str(personas.team_a),
        "issue_id": str(personas.issue_started),
        "site_id": "1",
        "question_id": str(question["id"]),
        "account_id": "1",
        "attribute_id": str(attribute["id"]),
        "lsid": "0" * 32,
        "file_id": "1",
        "recording_id": "1",
        "jump_group_id": str(appliance.with_session(_jump_group)),
        "jump_client_id": "1",
        "installer_id": "1",
    }


def _jump_group(session: Session) -> int:
    group = JumpGroup(name="Access check")
    session.add(group)
    session.flush()
    return group.id


def concrete(path: str, ids: dict[str, str]) -> str:
    return PATH_PARAM.sub(lambda m: ids[m.group(1)], path)


def routes(access: Access, method: str) -> list[str]:
    return [page.path for page in PAGES if page.access is access and method in page.methods]


def test_the_route_table_is_not_empty() -> None:
    assert len(routes(Access.ADMIN, "GET")) >= 10
    assert len(routes(Access.ADMIN, "POST")) >= 20


def test_an_admin_opens_every_admin_page(admin: AdminClient, ids: dict[str, str]) -> None:
    for path in routes(Access.ADMIN, "GET"):
        response = admin.get(concrete(path, ids))
        assert response.status_code == 200, (path, response.text[:500])
        assert response.headers["x-frame-options"] == "DENY"


def test_a_rep_opens_no_admin_page(rep: AdminClient, ids: dict[str, str]) -> None:
    for path in routes(Access.ADMIN, "GET"):
        response = rep.get(concrete(path, ids))
        assert response.status_code == 403, path
        assert "Only an administrator may open this page." in response.text


def test_a_rep_changes_nothing_an_admin_changes(rep: AdminClient, ids: dict[str, str]) -> None:
    for path in routes(Access.ADMIN, "POST"):
        response = rep.post(concrete(path, ids), {"name": "x", "xml_api_enabled": ""})
        assert response.status_code == 403, path


def test_every_change_needs_its_form_token(admin: AdminClient, ids: dict[str, str]) -> None:
    for page in PAGES:
        if "POST" in page.methods:
            response = admin.client.post(concrete(page.path, ids), data={"csrf": "forged", "name": "x"})
            assert response.status_code == 400, page.path
            assert "The form expired" in response.text


def test_a_signed_out_visitor_is_sent_to_sign_in(appliance: RunningAppliance, ids: dict[str, str]) -> None:
    with appliance.client() as visitor:
        for page in PAGES:
            for method in page.methods:
                response = visitor.request(method, concrete(page.path, ids))
                assert response.status_code == 303, page.path
                assert response.headers["location"].startswith("/login"), page.path


def test_a_rep_opens_their_own_pages(rep: AdminClient) -> None:
    for path in routes(Access.SIGNED_IN, "GET"):
        assert rep.get(path).status_code == 200, path


def test_oversized_forms_are_refused(admin: AdminClient) -> None:
    response = admin.post("/login/security", {"padding": "x" * 70_000})
    assert response.status_code == 400


def test_reports_need_a_permission_to_view_reports(rep: AdminClient, admin: AdminClient, ids: dict[str, str]) -> None:
    for path in routes(Access.REPORTS, "GET"):
        assert rep.get(concrete(path, ids)).status_code == 403, path  # rep_a: perm_view_reports none
    assert admin.get("/login/reports").status_code == 200


def test_jump_client_pages_need_a_permission_to_deploy(
    rep: AdminClient, admin: AdminClient, ids: dict[str, str]
) -> None:
    for path in routes(Access.JUMP_DEPLOY, "GET"):
        response = rep.get(concrete(path, ids))  # rep_a: no perm_jump_deploy
        assert response.status_code == 403, path
        assert "may deploy Jump Clients" in response.text
        assert admin.get(concrete(path, ids)).status_code == 200, path
    for path in routes(Access.JUMP_DEPLOY, "POST"):
        assert rep.post(concrete(path, ids), {"key": "x"}).status_code == 403, path
