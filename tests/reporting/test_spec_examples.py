"""Every Reporting API query example of the API guide, as written there (stray spaces and
the guide's own spellings `sid`, `ids`, `Isid` included), with only the host, the
credentials and the IDs of things this appliance made substituted."""

from __future__ import annotations

import re

import httpx
import pytest
from lxml import etree

from tests.support.history import History
from tests.support.reporting import NS_17, Reporters, ReportingApi

EXAMPLES = [
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_date=2011-04-01&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_date=2011-04-01&duration=30",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_time=1301644800&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_time=1301644800&duration=36000",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&end_date=2011-04-01&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&end_date=2011-04-01&duration=30",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&end_time=1301644800&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&end_time=1301644800&duration=36000",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&sid=c69a8e10bea9428f816cfababe9815fe",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&ids=c69a8e10bea9428f816cfababe9815fe,a5eeaa58591047b88556f944804227b0,5bf07601298b495b87310da9ce571e22",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_date=2011-04-01&duration=0&limit=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_date=2011-04-01&duration=0&limit=rep:1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_date=2011-04-01&duration=0&limit=team:all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_date=2011-04-01&duration=0&limit=team:1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_date=2011-04-01&duration=0&limit=members:1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSession&start_date=2011-04-01&duration=0&limit=site:1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionListing&start_date=2011-04-01&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionListing&start_date=2011-04-01&duration=30",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionListing&start_time=1301644800&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionListing&start_time=1301644800&duration=36000",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionListing&end_date=2011-04-01&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionListing&end_date=2011-04-01&duration=30",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionListing&end_time=1301644800&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionListing&end_time=1301644800&duration=36000",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&start_date=2011-04-01 &duration=0&report_type=rep",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&start_date=2011-04-01 &duration=0&report_type=team",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&start_date=2011-04-01 &duration=0&report_type=site",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&start_date=2011-04-01 &duration=30&report_type=rep",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&start_time=1301644800&duration=0&report_type=rep",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&start_time=1301644800&duration=36000&report_type=rep",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&end_date=2011-04-01 &duration=0&report_type=rep",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&end_date=2011-04-01 &duration=30&report_type=rep",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&end_time=1301644800&duration=0&report_type=rep",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionSummary&end_time=1301644800&duration=36000&report_type=rep",
    "/api/reporting.ns?username=test&password=test&generate_report=PresentationRecording&lsid=c69a8e10bea9428f816cfababe9815fe",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&start_date=2011-04-01&duration=0&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&start_date=2011-04-01&duration=0&report_type=team&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&start_date=2011-04-01&duration=0&report_type=rep&id=1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&start_date=2011-04-01&duration=0&report_type=team&id=1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&start_date=2011-04-01&duration=30&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&start_time=1301644800&duration=0&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&start_time=1301644800&duration=36000&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&end_date=2011-04-01&duration=0&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&end_date=2011-04-01&duration=30&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&end_time=1301644800&duration=0&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&end_time=1301644800&duration=36000&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportCustExitSurvey&start_date=2011-04-01&duration=0&report_type=rep&id=all&site_id=1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&start_date=2011-04-01&duration=0&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&start_date=2011-04-01&duration=0&report_type=team&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&start_date=2011-04-01&duration=0&report_type=rep&id=1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&start_date=2011-04-01&duration=0&report_type=team&id=1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&start_date=2011-04-01&duration=30&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&start_time=1301644800&duration=0&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&start_time=1301644800&duration=36000&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&end_date=2011-04-01&duration=0&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&end_date=2011-04-01&duration=30&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&end_time=1301644800&duration=0&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&end_time=1301644800&duration=36000&report_type=rep&id=all",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportRepExitSurvey&start_date=2011-04-01&duration=0&report_type=rep&id=all&site_id=1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&start_date=2011-04-01&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&start_date=2011-04-01&duration=30",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&start_time=1301644800&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&start_time=1301644800&duration=36000",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&start_date=2011-04-01&duration=0&team_id=1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&end_date=2011-04-01&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&end_date=2011-04-01&duration=30",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&end_time=1301644800&duration=0",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&end_time=1301644800&duration=36000",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportTeam&end_date=2011-04-01&duration=0&team_id=1",
    "/api/reporting.ns?username=test&password=test&generate_report=SupportSessionRecording&Isid=c69a8e10bea9428f816cfababe9815fe",
    "/api/reporting.ns?username=test&password=test&generate_report=CommandShellRecording&lsid=c69a8e10bea9428f816cfababe9815fe&instance=0",
    "/api/reporting.ns?username=test&password=test&generate_report=CommandShellRecording&lsid=c69a8e10bea9428f816cfababe9815fe&instance=2",
]
ROOTS = {
    "SupportSession": "session_list",
    "SupportSessionListing": "session_summary_list",
    "SupportSessionSummary": "summary_list",
    "SupportCustExitSurvey": "exit_survey_list",
    "SupportRepExitSurvey": "exit_survey_list",
    "SupportTeam": "team_activity_list",
}
EXAMPLE_LSIDS = [
    "c69a8e10bea9428f816cfababe9815fe",
    "a5eeaa58591047b88556f944804227b0",
    "5bf07601298b495b87310da9ce571e22",
]


def report_of(url: str) -> str:
    found = re.search(r"generate_report=(\w+)", url)
    assert found is not None
    return found.group(1)


def ours(url: str, history: History) -> str:
    """The example with this appliance's own sessions; rep 1 is the admin, team 1 Team A, site 1 the default."""
    url = url.replace("password=test&", "password=test-password&")
    sessions = (
        [history.presentation]
        if "PresentationRecording" in url
        else [history.full, history.transferred, history.embassy]
    )
    for example, lsid in zip(EXAMPLE_LSIDS, sessions, strict=False):
        url = url.replace(example, lsid)
    return url


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.split("generate_report=")[1][:70] for e in EXAMPLES])
def test_the_guides_example_works(
    client: httpx.Client, reporting: ReportingApi, reporters: Reporters, history: History, example: str
) -> None:
    assert reporters.test.password == "test-password"
    url = ours(example, history)
    response = client.get(url)
    report = report_of(url)
    if report not in ROOTS:  # a recording: the file itself
        assert response.status_code == 200
        assert "xml" not in response.headers["content-type"]
        assert response.headers["content-disposition"].startswith("attachment; filename=")
        return
    root = reporting.schemas.check(response, NS_17)
    assert etree.QName(root).localname == ROOTS[report]
    assert [c for c in root if etree.QName(c).localname == "error"] == []
    # From April 2011 to now covers this appliance's sessions; April 2011 alone covers none.
    if "duration=0" in url or "sid=" in url or "ids=" in url:
        assert len(root) > (2 if report == "SupportTeam" else 0), url
    else:
        assert len(root) == (2 if report == "SupportTeam" else 0), url
