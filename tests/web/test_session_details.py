"""What the issue form, click-to-chat and a rep's session key put on a session, as /login's
reports, the consoles and the Reporting API show it: the issue by its title (its id in the
XML, as the guide has it), when each person joined, and who set the external key."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.sessions.live import session_state
from lifeline.sessions.models import EventType, SessionEvent
from lifeline.sessions.queries import session_by_lsid
from tests.admin.helpers import AdminClient, signed_in
from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance
from tests.support.personas import Personas
from tests.support.reporting import NS_LATER, ReportingApi, sessions_by_lsid
from tests.support.sockets import BROWSER, Console, CustomerClient, sign_in, start_by_issue
from tests.web.test_start_session import started

STARTED_TITLE = "I need help getting started"
ERROR_TITLE = "I am receiving an error"


@pytest.fixture(scope="module")
def admin(appliance: RunningAppliance, personas: Personas) -> Iterator[AdminClient]:
    with signed_in(appliance, "admin", ADMIN_PASSWORD) as client:
        yield client


@pytest.fixture(scope="module")
def web(appliance: RunningAppliance) -> Iterator[httpx.Client]:
    with appliance.client(follow_redirects=False, headers={"Host": "support.example.com", **BROWSER}) as client:
        yield client


def state_of(appliance: RunningAppliance, lsid: str) -> dict[str, object]:
    def read(session: Session) -> dict[str, object]:
        found = session_by_lsid(session, lsid)
        assert found is not None
        return session_state(session, found)

    return appliance.with_session(read)


def report_row(admin: AdminClient, lsid: str) -> str:
    page = admin.get("/login/reports").text
    row = page.split(f'href="/login/reports/sessions/{lsid}"')[1].split("</tr>")[0]
    return re.sub(r"<[^>]+>", " ", row)


def test_the_issue_picked_by_id_or_by_code_name_is_its_id_and_shows_as_its_title(
    appliance: RunningAppliance, web: httpx.Client, admin: AdminClient, personas: Personas
) -> None:
    by_id = started(
        appliance, web.post("/api/start_session", data={"issue_menu": "1", "id": str(personas.issue_error)})
    )
    by_code = started(
        appliance, web.post("/api/start_session", data={"codeName": "i_need_help_getting_started", "c2cjs": "1"})
    )
    assert (by_id.customer_issue, by_code.customer_issue) == (str(personas.issue_error), str(personas.issue_started))

    assert ERROR_TITLE in report_row(admin, by_id.lsid)
    assert STARTED_TITLE in report_row(admin, by_code.lsid)
    assert f"<dd>{STARTED_TITLE}</dd>" in admin.get(f"/login/reports/sessions/{by_code.lsid}").text
    for found, title in ((by_id, ERROR_TITLE), (by_code, STARTED_TITLE)):
        customer = state_of(appliance, found.lsid)["customer"]
        assert isinstance(customer, dict)
        assert customer["issue_title"] == title

    with appliance.client() as client:
        root = ReportingApi(client).call("SupportSession", personas.admin.params, lsids=f"{by_id.lsid},{by_code.lsid}")
    issues = {
        lsid: element.findtext(f".//{{{NS_LATER}}}customer/{{{NS_LATER}}}info/{{{NS_LATER}}}issue")
        for lsid, element in sessions_by_lsid(root).items()
    }
    assert issues == {by_id.lsid: str(personas.issue_error), by_code.lsid: str(personas.issue_started)}


def test_the_people_table_says_when_each_person_joined(
    appliance: RunningAppliance, admin: AdminClient, personas: Personas
) -> None:
    console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Jo Joined", id=str(personas.issue_started)))
    lsid = customer.welcome["session"]["lsid"]
    console.send({"type": "take", "ref": "take", "lsid": lsid})
    assert console.ack("take")["ok"]
    console.send({"type": "end", "ref": "end", "lsid": lsid})
    assert console.ack("end")["ok"]
    customer.close()
    console.close()

    page = admin.get(f"/login/reports/sessions/{lsid}").text
    people = page.split("<h2>People</h2>")[1].split("</table>")[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in people.split("<tr>")[2:]]
    assert sorted(re.sub(r"<[^>]+>", "", cells[1]) for cells in rows) == ["Alice Rep (rep_a)", "Jo Joined"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cells[2]) for cells in rows), rows


def test_an_external_key_from_the_reps_session_key_is_logged_as_set_by_the_rep(
    appliance: RunningAppliance, web: httpx.Client, personas: Personas
) -> None:
    console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    try:
        console.send({"type": "generate_key", "ref": "key", "external_key": "TICKET-77"})
        answer = console.ack("key")
        assert answer["ok"], answer
        found = started(appliance, web.post("/api/start_session", data={"short_key": answer["result"]["short_key"]}))
    finally:
        console.close()

    def external_key_events(session: Session) -> list[tuple[str, str, str | None]]:
        return [
            (e.performed_by_type, e.performed_by_name, e.body)
            for e in session.scalars(
                select(SessionEvent).where(
                    SessionEvent.session_id == found.id, SessionEvent.event_type == EventType.EXTERNAL_KEY.value
                )
            )
        ]

    assert found.external_key == "TICKET-77"
    assert appliance.with_session(external_key_events) == [("representative", "Alice Rep", "TICKET-77")]
