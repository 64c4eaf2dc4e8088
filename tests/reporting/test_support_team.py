"""SupportTeam: each team's console logins and the events of its sessions."""

from __future__ import annotations

import base64
import time

from lxml import etree

from tests.support.appliance import RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.history import BINARY_CHAT, History
from tests.support.personas import Personas
from tests.support.reporting import NO_DATA, Reporters, ReportingApi, child, children, has, tags, text

ALL_TIME = {"start_date": "2000-01-01", "duration": "0"}


def teams(reporting: ReportingApi, reporters: Reporters, **params: object) -> dict[str, etree._Element]:
    root = reporting.call("SupportTeam", reporters.everything.params, ns=True, **params)
    return {t.get("name") or "": t for t in children(root, "team_activity")}


def events(team: etree._Element) -> list[etree._Element]:
    return children(child(team, "events"), "event")


def test_the_answer_gives_the_window_then_each_team_with_activity(
    reporting: ReportingApi, reporters: Reporters, personas: Personas, history: History
) -> None:
    root = reporting.call("SupportTeam", reporters.everything.params, ns=True, **ALL_TIME)
    assert tags(root)[:2] == ["start_time", "end_time"]
    start = child(root, "start_time")
    assert (start.text, start.get("timestamp")) == ("2000-01-01T00:00:00+00:00", "946684800")
    found = {t.get("name"): t.get("id") for t in children(root, "team_activity")}
    assert found == {
        "Team A": str(personas.team_a),
        "Team B": str(personas.team_b),
        "Partner Embassy": str(personas.embassy),
    }
    assert tags(children(root, "team_activity")[0]) == ["logged_in_representatives", "events"]


def test_members_logging_into_the_console_are_conference_member_events(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    team_b = teams(reporting, reporters, **ALL_TIME)["Team B"]
    login = events(team_b)[0]
    assert login.get("event_type") == "Conference Member Added"
    performed_by = child(login, "performed_by")
    assert (performed_by.get("type"), performed_by.get("gsnumber"), performed_by.text) == (
        "representative",
        str(history.logins.rep_b),
        "Bob Rep",
    )
    values = [(v.get("name"), v.get("value")) for v in children(child(login, "data"), "value")]
    assert [name for name, _ in values] == [
        "hostname",
        "name",
        "os",
        "private_ip",
        "public_ip",
        "support_teams",
        "user_id",
    ]
    assert dict(values)["hostname"] == "bob-pc" and dict(values)["support_teams"] == "Team B"


def test_the_teams_session_events_carry_destinations_files_data_and_bodies(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    team_a = teams(reporting, reporters, **ALL_TIME)["Team A"]
    kinds = [e.get("event_type") for e in events(team_a)]
    assert kinds[0] == "Conference Member Added"  # rep_a logging in
    assert "Session Start" in kinds and "Session End" in kinds and "File Upload" in kinds
    chat = next(e for e in events(team_a) if e.get("event_type") == "Chat Message")
    assert tags(chat) == ["performed_by", "destinations", "body"]
    destination = child(child(chat, "destinations"), "destination")
    assert (destination.get("gsnumber"), destination.text) == (str(history.logins.rep_a), "Alice Rep")
    upload = next(e for e in events(team_a) if e.get("event_type") == "File Upload")
    assert [(f.get("name"), f.get("size")) for f in children(child(upload, "files"), "file")] == [("fix.ps1", "24")]
    binary = next(e for e in events(team_a) if has(e, "encoded_body"))
    assert base64.b64decode(text(binary, "encoded_body")).decode() == BINARY_CHAT
    for event in events(team_a):
        assert (event.get("timestamp") or "").isdigit()


def test_team_id_picks_one_team(reporting: ReportingApi, reporters: Reporters, personas: Personas) -> None:
    assert list(teams(reporting, reporters, team_id=personas.embassy, **ALL_TIME)) == ["Partner Embassy"]


def test_a_window_of_ended_activity_leaves_out_sessions_in_progress(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    hour_ago = int(time.time()) - 3600
    by_start = teams(reporting, reporters, start_time=hour_ago, duration=0)["Team B"]
    by_end = teams(reporting, reporters, end_time=hour_ago, duration=0)["Team B"]
    said = [text(e, "body") for e in events(by_start) if e.get("event_type") == "Chat Message"]
    assert "Working on it" in said and "Hi Quinn" in said  # the active session, and the transferred one
    said_ended = [text(e, "body") for e in events(by_end) if e.get("event_type") == "Chat Message"]
    assert "Working on it" not in said_ended and "Hi Quinn" in said_ended


def test_no_activity(reporting: ReportingApi, reporters: Reporters) -> None:
    params = {"start_time": int(time.time()) + 3600, "duration": 0}
    root = reporting.call("SupportTeam", reporters.everything.params, ns=True, **params)
    assert tags(root) == ["start_time", "end_time"]
    assert reporting.call("SupportTeam", reporters.everything.params, **params).text == NO_DATA


def test_reps_logged_in_before_the_first_event_are_listed(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, node: ConsoleNode, history: History
) -> None:
    """Runs last: it adds a login and a session."""
    node.log_in("lead_a", hostname="lead-pc")
    time.sleep(1.1)
    since = int(time.time())
    node.start_session("team:1", customer_name="Wes")
    team_a = teams(reporting, reporters, start_time=since, duration=0)["Team A"]
    logged_in = children(child(team_a, "logged_in_representatives"), "representative")
    assert {r.get("gsnumber") for r in logged_in} >= {str(history.logins.rep_a)}
    assert {text(r, "display_name") for r in logged_in} == {"Alice Rep", "lead_a"}
    assert tags(logged_in[0]) == ["display_name", "public_ip", "private_ip"]
    assert [e.get("event_type") for e in events(team_a)] == ["Session Start"]
