"""How every report answers: URLs, methods, namespaces, the schema, and errors by era."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

from lifeline.api.reporting.params import REPORT_TYPES
from tests.support.appliance import RunningAppliance, eventually
from tests.support.history import History
from tests.support.reporting import NS_17, NS_LATER, Reporters, ReportingApi, children

ALL_TIME = {"start_date": "2000-01-01", "duration": "0"}
CHOICES = "The parameter generate_report must be one of: " + ", ".join(REPORT_TYPES) + "."


def test_the_schema_is_served_in_the_later_namespace_or_the_one_asked_for(client: httpx.Client) -> None:
    schema = etree.fromstring(client.get("/api/reporting.xsd").content)
    assert schema.get("targetNamespace") == NS_LATER
    other = etree.fromstring(client.get("/api/reporting.xsd", params={"namespace": NS_17}).content)
    assert other.get("targetNamespace") == NS_17
    assert client.get("/api/reporting.xsd", params={"namespace": "not a uri"}).status_code == 400


@pytest.mark.parametrize("ns", [True, False])
def test_a_request_without_generate_report_is_an_error(reporting: ReportingApi, reporters: Reporters, ns: bool) -> None:
    root = reporting.call(None, reporters.everything.params, ns=ns, **ALL_TIME)
    assert (etree.QName(root).localname, root.text) == ("error", "The required parameter generate_report is missing.")


@pytest.mark.parametrize("name", ["supportsession", "SupportSessions", "Archive", "SupportSession "])
def test_an_unknown_report_is_an_error_not_a_guess(reporting: ReportingApi, reporters: Reporters, name: str) -> None:
    for ns in (True, False):
        root = reporting.call(name, reporters.everything.params, ns=ns, **ALL_TIME)
        assert (etree.QName(root).localname, root.text) == ("error", CHOICES)


def test_1_7_errors_sit_inside_the_reports_root_and_later_ones_are_the_root(
    reporting: ReportingApi, reporters: Reporters
) -> None:
    roots = {
        "SupportSession": "session_list",
        "SupportSessionListing": "session_summary_list",
        "SupportSessionSummary": "summary_list",
        "SupportCustExitSurvey": "exit_survey_list",
        "SupportRepExitSurvey": "exit_survey_list",
        "SupportTeam": "team_activity_list",
        "SupportSessionRecording": "error",
        "CommandShellRecording": "error",
        "PresentationRecording": "error",
    }
    assert set(roots) == set(REPORT_TYPES)
    for report, root_name in roots.items():
        root = reporting.call(report, reporters.everything.params, ns=True, duration="x")
        assert etree.QName(root).localname == root_name, report
        if root_name != "error":
            assert [(etree.QName(c).localname, c.get("code")) for c in root] == [("error", None)]
        later = reporting.call(report, reporters.everything.params, duration="x")
        assert etree.QName(later).localname == "error"


def test_post_works_like_get(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    for ns in (True, False):
        response = reporting.raw("SupportSession", reporters.everything.params, ns=ns, method="POST", lsid=history.full)
        assert len(children(reporting.check(response, ns=ns), "session")) == 1


def test_parameters_in_the_query_string_of_an_empty_post_work(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    token = reporters.integration.token(reporting.client)
    response = reporting.client.post(
        "/api/reporting?end_time=0&duration=0&generate_report=SupportSession",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert {s.get("lsid") for s in children(reporting.check(response, ns=False), "session")} == set(history.ended)


def test_the_namespace_is_a_setting(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    bomgar = "http://www.bomgar.com/namespaces/API/reporting"
    appliance.cli("settings", "set", "reporting_api_namespace", bomgar)
    try:

        def changed() -> None:
            response = reporting.raw("SupportSession", reporters.everything.params, lsid=history.full)
            assert f'<session_list xmlns="{bomgar}">'.encode() in response.content
            reporting.schemas.check(response, bomgar)

        eventually(changed)
    finally:
        appliance.cli_settled("settings", "set", "reporting_api_namespace", NS_LATER)


def test_plain_http_is_refused_unless_allowed(appliance: RunningAppliance, reporters: Reporters) -> None:
    response = httpx.get(
        f"{appliance.http}/api/reporting.ns",
        params={**reporters.everything.params, "generate_report": "SupportSession", **ALL_TIME},
    )
    assert b"The XML API is available over HTTPS only" in response.content
    assert b"<session" not in response.content
