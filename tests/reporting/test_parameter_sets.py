"""SupportSession's parameter sets: start_*/end_* with duration, lsid, lsids, and limit."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.history import History
from tests.support.personas import Personas
from tests.support.reporting import NO_DATA, Reporters, ReportingApi, children, sessions_by_lsid


# Read when a test runs, after its history is made: a value read at import is stale by the
# time the tests run (tens of minutes in a full run, or across midnight).
def now() -> int:
    return int(time.time())


def today() -> date:
    return datetime.now(UTC).date()


def lsids(reporting: ReportingApi, reporters: Reporters, **params: object) -> set[str]:
    root = reporting.call("SupportSession", reporters.everything.params, ns=True, **params)
    return set(sessions_by_lsid(root))


def test_start_date_with_duration_0_covers_every_session_since_then_in_progress_included(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    assert lsids(reporting, reporters, start_date=str(today() - timedelta(days=1)), duration=0) == set(history.all)


def test_end_date_covers_closed_sessions_only(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    assert lsids(reporting, reporters, end_date=str(today() - timedelta(days=1)), duration=0) == set(history.ended)


def test_duration_counts_days_for_dates(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    assert lsids(reporting, reporters, start_date=str(today() - timedelta(days=1)), duration=3) == set(history.all)
    assert lsids(reporting, reporters, start_date=str(today() - timedelta(days=3)), duration=2) == set()
    assert lsids(reporting, reporters, start_date=str(today() + timedelta(days=1)), duration=0) == set()


def test_duration_counts_seconds_for_times(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    moment = now()
    hour_ago = moment - 3600
    assert lsids(reporting, reporters, start_time=hour_ago, duration=0) == set(history.all)
    assert lsids(reporting, reporters, start_time=hour_ago, duration=7200) == set(history.all)
    assert lsids(reporting, reporters, start_time=hour_ago, duration=60) == set()
    assert lsids(reporting, reporters, end_time=hour_ago, duration=7200) == set(history.ended)
    assert lsids(reporting, reporters, end_time=moment + 3600, duration=0) == set()


def test_start_date_and_start_time_together_are_accepted(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    # Some integrations send both; start_time decides.
    assert lsids(reporting, reporters, start_date="2000-01-01", start_time=now() + 3600, duration=0) == set()


def test_lsid_and_lsids_name_sessions(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    assert lsids(reporting, reporters, lsid=history.full) == {history.full}
    assert lsids(reporting, reporters, lsid=history.full.upper()) == {history.full}
    assert lsids(reporting, reporters, lsids=f"{history.full},{history.active},{history.full}") == {
        history.full,
        history.active,
    }
    assert lsids(reporting, reporters, lsid="0" * 32) == set()


def test_the_guides_own_spellings_sid_ids_and_date_work(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    assert lsids(reporting, reporters, sid=history.full) == {history.full}
    assert lsids(reporting, reporters, ids=f"{history.full},{history.waiting}") == {history.full, history.waiting}
    assert lsids(reporting, reporters, date=str(today() - timedelta(days=1)), duration=0) == set(history.all)
    assert lsids(reporting, reporters, start_date=f"{today() - timedelta(days=1)} ", duration=0) == set(history.all)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ("all", "all"),
        ("rep:rep_a", "full"),
        ("rep:rep_b", "transferred active"),
        ("rep:admin", "transferred other_site presentation"),
        ("team:all", "full transferred embassy active"),
        ("team:team_a", "full"),
        ("team:team_b", "transferred active"),
        ("team:embassy", "embassy"),
        ("members:team_b", "transferred active"),
        ("members:embassy", "embassy"),
        ("site:1", "full transferred embassy presentation waiting active"),
        ("site:other", "other_site"),
        ("rep:9999", ""),
    ],
)
def test_limit_narrows_the_sessions(
    reporting: ReportingApi,
    reporters: Reporters,
    personas: Personas,
    history: History,
    limit: str,
    expected: str,
) -> None:
    ids = {
        "rep_a": personas.rep_a.id,
        "rep_b": personas.rep_b.id,
        "admin": personas.admin.id,
        "team_a": personas.team_a,
        "team_b": personas.team_b,
        "embassy": personas.embassy,
        "other": history.other_site_id,
    }
    kind, _, ref = limit.partition(":")
    value = f"{kind}:{ids.get(ref, ref)}" if ref else kind
    wanted = set(history.all) if expected == "all" else {getattr(history, name) for name in expected.split()}
    assert lsids(reporting, reporters, start_date="2000-01-01", duration=0, limit=value) == wanted


def test_limit_is_ignored_beside_lsid(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    assert lsids(reporting, reporters, lsid=history.full, limit="site:999") == {history.full}


def test_nothing_found_is_an_empty_list_on_ns_and_the_later_error_otherwise(
    reporting: ReportingApi, reporters: Reporters
) -> None:
    params = {"start_time": now() + 3600, "duration": 0}
    root = reporting.call("SupportSession", reporters.everything.params, ns=True, **params)
    assert (root.tag.split("}")[1], len(root)) == ("session_list", 0)
    raw = reporting.raw("SupportSession", reporters.everything.params, ns=True, **params).content
    assert b"</session_list>" in raw and b"<session_list/>" not in raw
    later = reporting.call("SupportSession", reporters.everything.params, **params)
    assert (later.tag.split("}")[1], later.text) == ("error", NO_DATA)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Specify start_date, start_time, end_date or end_time with duration, or lsid or lsids."),
        ({"start_date": "2011-04-01"}, "The required parameter duration is missing."),
        ({"start_date": "2011-02-30", "duration": "0"}, "2011-02-30 is not a date."),
        ({"start_date": "April 1", "duration": "0"}, "The parameter start_date must be a date as YYYY-MM-DD."),
        ({"start_time": "yesterday", "duration": "0"}, "The parameter start_time must be an integer."),
        ({"start_time": "0", "duration": "-1"}, "The parameter duration must be between 0 and 253402300799."),
        ({"lsid": "c69a8e10"}, "The parameter lsid must be a 32-character hexadecimal session ID."),
        (
            {"lsids": "c69a8e10bea9428f816cfababe9815fe;x"},
            "The parameter lsids must be a comma-separated list of session IDs.",
        ),
        (
            {"start_time": "0", "duration": "0", "limit": "group:1"},
            "The parameter limit must be all, rep:ID, team:all, team:ID, members:ID or site:ID.",
        ),
    ],
)
def test_bad_parameters_get_a_clear_error(
    reporting: ReportingApi, reporters: Reporters, params: dict[str, str], message: str
) -> None:
    root = reporting.call("SupportSession", reporters.everything.params, ns=True, **params)
    assert [(c.tag.split("}")[1], c.text) for c in root] == [("error", message)]
    later = reporting.call("SupportSession", reporters.everything.params, **params)
    assert (later.tag.split("}")[1], later.text) == ("error", message)
    assert children(root, "session") == []
