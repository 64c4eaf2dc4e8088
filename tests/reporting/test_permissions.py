"""Who may ask for reports, and that nobody sees more than their perm_view_reports allows."""

from __future__ import annotations

import pytest
from lxml import etree

from lifeline.api.auth import NO_CREDENTIALS
from lifeline.api.reporting.reports import (
    NO_RECORDINGS,
    NO_REPORTING_ACCOUNT,
    NO_REPORTING_USER,
    NO_REPORTS,
    NO_SUCH_RECORDING,
    NO_TEAM_REPORTS,
)
from tests.support.history import History
from tests.support.personas import Personas
from tests.support.reporting import Reporters, ReportingApi, children, sessions_by_lsid, text

ALL_TIME = {"start_date": "2000-01-01", "duration": "0"}


def error(root: etree._Element) -> str | None:
    if etree.QName(root).localname == "error":
        return root.text or ""
    if len(root) == 1 and etree.QName(root[0]).localname == "error":
        return root[0].text or ""
    return None


def visible(reporting: ReportingApi, auth: dict[str, str] | str) -> set[str]:
    root = reporting.call("SupportSession", auth, ns=True, **ALL_TIME)
    assert error(root) is None, error(root)
    return set(sessions_by_lsid(root))


def test_those_who_see_all_sessions_see_every_session(
    reporting: ReportingApi, reporters: Reporters, personas: Personas, history: History
) -> None:
    for who in (reporters.everything, reporters.no_recordings, reporters.test, personas.admin):
        assert visible(reporting, who.params) == set(history.all), who.username
    token = reporters.integration.token(reporting.client)
    assert visible(reporting, token) == set(history.all)


def test_a_rep_who_sees_their_own_sessions_sees_those_they_took_part_in(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    # rep_b joined the full session as a conference member, took the transferred one, owns the active one.
    assert visible(reporting, reporters.own_b.params) == {history.full, history.transferred, history.active}


def test_a_team_lead_sees_their_teams_sessions(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    assert visible(reporting, reporters.lead_a.params) == {history.full}


@pytest.mark.parametrize(
    ("who", "message"),
    [("no_view", NO_REPORTS), ("no_api", NO_REPORTING_USER)],
)
def test_users_without_reporting_permissions_are_refused(
    reporting: ReportingApi, reporters: Reporters, who: str, message: str
) -> None:
    auth = getattr(reporters, who).params
    for report in ("SupportSession", "SupportSessionListing", "SupportTeam", "SupportSessionRecording"):
        root = reporting.call(report, auth, ns=True, **ALL_TIME)
        assert error(root) == message
        assert error(reporting.call(report, auth, **ALL_TIME)) == message


def test_an_api_account_needs_reporting_access(reporting: ReportingApi, reporters: Reporters) -> None:
    token = reporters.noreport.token(reporting.client)
    assert error(reporting.call("SupportSession", token, **ALL_TIME)) == NO_REPORTING_ACCOUNT


def test_bad_credentials_answer_login_failed_as_integrations_match_it(
    reporting: ReportingApi, reporters: Reporters
) -> None:
    bad = {"username": reporters.everything.username, "password": "wrong"}
    raw = reporting.raw("SupportSession", bad, ns=True, lsid="c69a8e10bea9428f816cfababe9815fe")
    assert b"<error>Login failed</error>" in raw.content
    root = reporting.check(raw, ns=True)
    assert (etree.QName(root).localname, error(root)) == ("session_list", "Login failed")
    later = reporting.call("SupportSession", bad, lsid="c69a8e10bea9428f816cfababe9815fe")
    assert (etree.QName(later).localname, later.text) == ("error", "Login failed")
    assert error(reporting.call("SupportSession", None, **ALL_TIME)) == NO_CREDENTIALS


def test_recordings_need_the_recordings_permission(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    for report in ("SupportSessionRecording", "PresentationRecording"):
        root = reporting.call(report, reporters.no_recordings.params, ns=True, lsid=history.full)
        assert error(root) == NO_RECORDINGS
    root = reporting.call("CommandShellRecording", reporters.no_recordings.params, lsid=history.full, instance=0)
    assert error(root) == NO_RECORDINGS


def test_recordings_of_sessions_one_may_not_see_are_not_there(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    mine = reporting.raw("SupportSessionRecording", reporters.own_b.params, lsid=history.full)
    assert mine.content == history.screen_bytes
    theirs = reporting.call("PresentationRecording", reporters.own_b.params, lsid=history.presentation)
    assert error(theirs) == NO_SUCH_RECORDING


def test_summaries_count_only_the_sessions_one_may_see(
    reporting: ReportingApi, reporters: Reporters, personas: Personas
) -> None:
    def totals(auth: dict[str, str]) -> dict[str, str]:
        root = reporting.call("SupportSessionSummary", auth, ns=True, report_type="rep", **ALL_TIME)
        return {s.get("id") or "": text(s, "total_sessions") for s in children(root, "summary")}

    everyone = totals(reporters.everything.params)
    assert everyone[str(personas.admin.id)] == "3"
    assert str(personas.admin.id) in everyone
    # rep_b sees the sessions they were in: the admin owned one of them before transferring it.
    assert totals(reporters.own_b.params) == {
        str(personas.admin.id): "1",
        str(personas.rep_a.id): "1",
        str(personas.rep_b.id): "2",
    }


def test_exit_surveys_follow_the_same_rule(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    def surveyed(auth: dict[str, str]) -> set[str]:
        root = reporting.call("SupportCustExitSurvey", auth, ns=True, report_type="rep", id="all", **ALL_TIME)
        return {s.get("lsid") or "" for s in children(root, "exit_survey")}

    assert surveyed(reporters.everything.params) == {history.full, history.transferred, history.presentation}
    assert surveyed(reporters.lead_a.params) == {history.full}


def test_team_activity_needs_team_or_all_sessions(
    reporting: ReportingApi, reporters: Reporters, personas: Personas, history: History
) -> None:
    assert error(reporting.call("SupportTeam", reporters.own_b.params, ns=True, **ALL_TIME)) == NO_TEAM_REPORTS
    root = reporting.call("SupportTeam", reporters.lead_a.params, ns=True, **ALL_TIME)
    assert [t.get("name") for t in children(root, "team_activity")] == ["Team A"]
    everything = reporting.call("SupportTeam", reporters.everything.params, ns=True, **ALL_TIME)
    assert [t.get("name") for t in children(everything, "team_activity")] == ["Team A", "Team B", "Partner Embassy"]
