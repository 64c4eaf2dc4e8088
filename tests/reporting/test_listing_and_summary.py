"""SupportSessionListing and SupportSessionSummary."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from lifeline.reports.summary import weekdays_between
from tests.support.history import History
from tests.support.personas import Personas
from tests.support.reporting import NO_DATA, Reporters, ReportingApi, children, tags, text

ALL_TIME = {"start_date": "2000-01-01", "duration": "0"}


def test_the_listing_names_each_session_with_its_key_and_whether_it_was_recorded(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    root = reporting.call("SupportSessionListing", reporters.everything.params, ns=True, **ALL_TIME)
    listed = {s.get("lsid"): s for s in children(root, "session_summary")}
    assert set(listed) == set(history.all)
    full = listed[history.full]
    assert (full.get("has_recording"), full.get("external_key"), tags(full)) == ("1", "INC-100", ["lseq"])
    assert list(full.attrib) == ["lsid", "has_recording", "external_key"]
    waiting = listed[history.waiting]
    assert (waiting.get("has_recording"), "external_key" in waiting.attrib) == ("0", False)
    assert text(waiting, "lseq").isdigit()


def test_the_listing_of_ended_sessions_leaves_out_those_in_progress(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    root = reporting.call(
        "SupportSessionListing", reporters.everything.params, end_time=int(time.time()) - 3600, duration=0
    )
    assert {s.get("lsid") for s in children(root, "session_summary")} == set(history.ended)


def test_the_listing_needs_a_window(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    root = reporting.call("SupportSessionListing", reporters.everything.params, ns=True, lsid=history.full)
    assert [c.text for c in root] == ["Specify start_date, start_time, end_date or end_time, with duration."]


def test_summaries_by_rep_count_the_sessions_each_rep_owned(
    reporting: ReportingApi, reporters: Reporters, personas: Personas
) -> None:
    root = reporting.call("SupportSessionSummary", reporters.everything.params, ns=True, report_type="rep", **ALL_TIME)
    summaries = {s.get("id"): s for s in children(root, "summary")}
    expected = {
        str(personas.admin.id): ("Administrator", "3"),
        str(personas.rep_a.id): ("Alice Rep", "1"),
        str(personas.rep_b.id): ("Bob Rep", "2"),
        str(personas.embassy_rep.id): ("Erin Partner", "1"),
    }
    assert {k: (text(s, "display_name"), text(s, "total_sessions")) for k, s in summaries.items()} == expected
    alice = summaries[str(personas.rep_a.id)]
    assert alice.get("type") == "rep"
    assert tags(alice) == ["display_name", "total_sessions", "avg_sessions_per_weekday", "avg_duration"]
    assert float(text(alice, "avg_sessions_per_weekday")) >= 0
    assert text(alice, "avg_duration").count(":") == 2


def test_summaries_by_team_and_by_site(
    reporting: ReportingApi, reporters: Reporters, personas: Personas, history: History
) -> None:
    teams = reporting.call("SupportSessionSummary", reporters.everything.params, report_type="team", **ALL_TIME)
    assert {(s.get("id"), text(s, "display_name"), text(s, "total_sessions")) for s in children(teams, "summary")} == {
        (str(personas.team_a), "Team A", "1"),
        (str(personas.team_b), "Team B", "2"),
        (str(personas.embassy), "Partner Embassy", "1"),
    }
    sites = reporting.call("SupportSessionSummary", reporters.everything.params, report_type="site", **ALL_TIME)
    assert {(s.get("id"), text(s, "total_sessions")) for s in children(sites, "summary")} == {
        ("1", "6"),
        (str(history.other_site_id), "1"),
    }


def test_sessions_per_weekday_average_over_the_weekdays_of_the_window(
    reporting: ReportingApi, reporters: Reporters, personas: Personas
) -> None:
    today = datetime.now(UTC).date()
    root = reporting.call(
        "SupportSessionSummary", reporters.everything.params, report_type="rep", start_date=str(today), duration=1
    )
    admin = next(s for s in children(root, "summary") if s.get("id") == str(personas.admin.id))
    expected = "3.0" if today.weekday() < 5 else "0.0"
    assert text(admin, "avg_sessions_per_weekday") == expected


def test_weekdays_are_counted_from_monday_to_friday() -> None:
    monday = datetime(2024, 12, 2).date()
    assert weekdays_between(monday, monday) == 1
    assert weekdays_between(monday, datetime(2024, 12, 8).date()) == 5  # to Sunday
    assert weekdays_between(monday, datetime(2024, 12, 16).date()) == 11
    assert weekdays_between(datetime(2024, 12, 7).date(), datetime(2024, 12, 8).date()) == 0
    assert weekdays_between(monday, datetime(2024, 12, 1).date()) == 0


@pytest.mark.parametrize("report_type", ["", "everyone"])
def test_a_summary_needs_rep_team_or_site(reporting: ReportingApi, reporters: Reporters, report_type: str) -> None:
    root = reporting.call("SupportSessionSummary", reporters.everything.params, report_type=report_type, **ALL_TIME)
    assert root.text == "The parameter report_type must be rep, team or site."


def test_an_empty_summary(reporting: ReportingApi, reporters: Reporters) -> None:
    params = {"start_time": int(time.time()) + 3600, "duration": 0, "report_type": "rep"}
    assert len(reporting.call("SupportSessionSummary", reporters.everything.params, ns=True, **params)) == 0
    assert reporting.call("SupportSessionSummary", reporters.everything.params, **params).text == NO_DATA
