"""Ids in paths: one beyond what the database holds is a 404 on every route that takes one,
signed in or not, never an error (21 OverflowError tracebacks before)."""

from __future__ import annotations

import re

import pytest

from lifeline.web.admin import PAGES
from tests.admin.helpers import AdminClient
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas
from tests.support.sockets import sign_in
from tests.web.test_files import customer_with_a_rep

HUGE = "99999999999999999999999"
ID_PARAM = re.compile(r"\{(\w+):id\}")


def admin_paths_with_ids() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        if "{" in page.path and "{lsid}" not in page.path:
            assert ID_PARAM.search(page.path), f"{page.path} takes an id without the id convertor"
            found.append((page.path, "GET" if "GET" in page.methods else "POST"))
    return found


def test_every_admin_route_with_an_id_is_found() -> None:
    assert len(admin_paths_with_ids()) >= 20


@pytest.mark.parametrize("too_big", [HUGE, str(2**31), str(2**63)])
def test_an_id_out_of_range_is_not_found_on_every_admin_page(admin: AdminClient, too_big: str) -> None:
    for path, method in admin_paths_with_ids():
        concrete = ID_PARAM.sub(too_big, path)
        response = admin.get(concrete) if method == "GET" else admin.post(concrete, {})
        assert response.status_code == 404, (concrete, response.status_code, response.text[:300])


def test_the_largest_id_is_an_ordinary_unknown_id(admin: AdminClient) -> None:
    assert admin.get(f"/login/users/{2**31 - 1}").status_code == 404
    assert admin.get(f"/login/reports/files/{2**31 - 1}").status_code == 404


def test_an_id_out_of_range_is_not_found_for_customers_and_reps(
    appliance: RunningAppliance, admin: AdminClient
) -> None:
    with appliance.client() as anyone:
        assert anyone.get(f"/chat/{'x' * 40}/files/{HUGE}").status_code == 404
    assert admin.get(f"/console/files/{HUGE}").status_code == 404
    assert "OverflowError" not in appliance.log_tail()


def test_huge_numbers_elsewhere_are_refused_not_errors(appliance: RunningAppliance, personas: Personas) -> None:
    """The same rule for ids that come in headers and console messages."""
    with customer_with_a_rep(appliance, personas) as (_, customer, console):
        lsid = customer.welcome["session"]["lsid"]
        cookie = sign_in(appliance, "rep_a", personas.rep_a.password)
        with appliance.client() as https:
            csrf = re.search(r'data-csrf="([^"]+)"', https.get("/console", headers={"Cookie": cookie}).text)
            assert csrf is not None
            response = https.post(
                f"/console/sessions/{lsid}/files",
                headers={"Cookie": cookie, "x-csrf-token": csrf.group(1), "x-gsnumber": HUGE},
                files={"file": ("a.txt", b"a")},
            )
        assert response.status_code == 400, response.text
        console.send({"type": "invite", "ref": "invite", "lsid": lsid, "rep_id": int(HUGE)})
        answer = console.ack("invite")
        assert (answer["ok"], answer["error"]) == (False, "rep_id must be a number")
        console.send({"type": "ping"})
        assert console.until("pong")
    assert "OverflowError" not in appliance.log_tail()
