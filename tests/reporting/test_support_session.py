"""SupportSession: everything the guide lists, in its order, for sessions run through the engine."""

from __future__ import annotations

import base64
import re
from datetime import datetime

import pytest
from lxml import etree

from tests.support.history import BINARY_CHAT, History
from tests.support.personas import Personas
from tests.support.reporting import (
    Reporters,
    ReportingApi,
    child,
    children,
    has,
    sessions_by_lsid,
    tags,
    text,
)

SESSION_ORDER = [
    "session_type",
    "lseq",
    "start_time",
    "end_time",
    "duration",
    "public_site",
    "external_key",
    "session_chat_view_url",
    "session_chat_download_url",
    "session_recording_view_url",
    "session_recording_download_url",
    "command_shell_recordings",
    "file_transfer_count",
    "primary_customer",
    "primary_rep",
    "primary_team",
    "customer_list",
    "rep_list",
    "team_list",
    "cust_survey_list",
    "rep_survey_list",
    "session_details",
]
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def one(reporting: ReportingApi, reporters: Reporters, lsid: str, *, ns: bool = True) -> etree._Element:
    root = reporting.call("SupportSession", reporters.everything.params, ns=ns, lsid=lsid)
    sessions = children(root, "session")
    assert len(sessions) == 1, etree.tostring(root)
    return sessions[0]


def events(session: etree._Element) -> list[etree._Element]:
    return children(child(session, "session_details"), "event")


def test_a_session_carries_everything_the_guide_lists_in_its_order(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    assert tags(session) == SESSION_ORDER
    assert session.get("lsid") == history.full
    assert text(session, "session_type") == "support"
    assert text(session, "lseq").isdigit()
    assert text(session, "external_key") == "INC-100"
    assert text(session, "file_transfer_count") == "2"
    assert child(session, "public_site").get("id") == "1"
    assert text(session, "public_site") == "Default"


def test_times_are_iso_8601_with_a_numeric_offset_beside_unix_seconds(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    for tag in ("start_time", "end_time"):
        element = child(session, tag)
        assert ISO.match(element.text or ""), element.text
        assert int(element.get("timestamp") or "") == int(datetime.fromisoformat(element.text or "").timestamp())
    assert re.match(r"^\d{2}:\d{2}:\d{2}$", text(session, "duration"))
    for event in events(session):
        assert (event.get("timestamp") or "").isdigit()


def test_a_session_in_progress_has_an_empty_end_time_and_no_transcript_links(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.active)
    end_time = child(session, "end_time")
    assert (end_time.text or "", end_time.get("timestamp")) == ("", None)
    raw = reporting.raw("SupportSession", reporters.everything.params, ns=True, lsid=history.active).content
    assert b"<end_time></end_time>" in raw  # an open and a close tag, as real appliances write it
    assert not has(session, "session_chat_view_url")
    assert not has(session, "session_chat_download_url")


def test_public_site_and_each_customers_info_are_always_there(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.waiting)
    assert child(session, "public_site").get("id") == "1"
    customer = child(child(session, "customer_list"), "customer")
    assert tags(child(customer, "info")) == ["name", "company", "company_code", "issue", "details"]
    assert text(customer, "info/name") == "Uma"
    assert not has(session, "primary_rep")  # nobody took it
    assert not has(session, "primary_team")
    assert children(child(session, "rep_list"), "representative") == []


def test_the_customer_is_listed_with_their_computer_and_front_end_survey(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    customer = child(child(session, "customer_list"), "customer")
    assert tags(customer) == ["username", "public_ip", "private_ip", "hostname", "os", "primary_cust", "info"]
    assert [text(customer, t) for t in ("username", "public_ip", "hostname", "os", "primary_cust")] == [
        "pat",
        "198.51.100.7",
        "customer-pc",
        "Windows 11",
        "1",
    ]
    assert [text(customer, f"info/{t}") for t in ("name", "company", "company_code", "issue", "details")] == [
        "Pat Customer",
        "Acme",
        "AC-1",
        "printing",
        "The printer jams",
    ]
    primary = child(session, "primary_customer")
    assert (primary.get("gsnumber"), primary.text) == (customer.get("gsnumber"), "Pat Customer")


def test_reps_are_listed_as_owners_or_conference_members_with_seconds_involved(
    reporting: ReportingApi, reporters: Reporters, personas: Personas, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    reps = {r.get("id"): r for r in children(child(session, "rep_list"), "representative")}
    alice, bob = reps[str(personas.rep_a.id)], reps[str(personas.rep_b.id)]
    assert tags(alice) == [
        "username",
        "display_name",
        "display_number",
        "public_ip",
        "private_ip",
        "hostname",
        "os",
        "session_owner",
        "primary_rep",
        "seconds_involved",
    ]
    assert (text(alice, "session_owner"), text(alice, "primary_rep"), alice.get("gsnumber")) == (
        "1",
        "1",
        str(history.logins.rep_a),
    )
    assert (text(bob, "session_owner"), text(bob, "primary_rep"), text(bob, "hostname")) == ("0", "0", "bob-pc")
    assert text(alice, "seconds_involved").isdigit()
    primary = child(session, "primary_rep")
    assert (primary.get("id"), primary.get("gsnumber"), primary.text) == (
        str(personas.rep_a.id),
        str(history.logins.rep_a),
        "Alice Rep",
    )


def test_embassy_members_are_marked(
    reporting: ReportingApi, reporters: Reporters, personas: Personas, history: History
) -> None:
    session = one(reporting, reporters, history.embassy)
    team = child(session, "primary_team")
    assert (team.get("id"), team.text) == (str(personas.embassy), "Partner Embassy")


def test_teams_list_every_team_the_session_belonged_to_and_the_last_one(
    reporting: ReportingApi, reporters: Reporters, personas: Personas, history: History
) -> None:
    session = one(reporting, reporters, history.transferred)
    teams = children(child(session, "team_list"), "team")
    assert [(t.get("id"), t.get("primary_team"), t.text) for t in teams] == [(str(personas.team_b), "1", "Team B")]
    full = one(reporting, reporters, history.full)
    assert [(t.get("id"), t.get("primary_team")) for t in children(child(full, "team_list"), "team")] == [
        (str(personas.team_a), "1")
    ]


def test_every_event_is_reported_in_order_with_who_did_it_and_to_whom(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    kinds = [e.get("event_type") for e in events(session)]
    assert kinds[0] == "Session Start"
    assert kinds[-3:] == ["Session End", "Customer Exit Survey", "Representative Exit Survey"]
    for expected in (
        "System Information Retrieved",
        "Conference Member Added",
        "Conference Owner Changed",
        "Chat Message",
        "Conference Member Departed",
        "Session Note Added",
        "File Upload",
        "File Download",
        "External Key",
        "Command Shell Session Started",
    ):
        assert expected in kinds
    for event in events(session):
        performed_by = child(event, "performed_by")
        assert performed_by.get("type") in ("system", "customer", "representative")
        assert (performed_by.get("gsnumber") or "").isdigit()
    chat = [e for e in events(session) if e.get("event_type") == "Chat Message"]
    assert text(chat[0], "body") == "Hello, my printer is jammed"
    assert child(chat[0], "performed_by").get("type") == "customer"
    assert (child(chat[0], "destination").get("type"), child(chat[0], "destination").text) == (
        "representative",
        "Alice Rep",
    )
    added = next(e for e in events(session) if e.get("event_type") == "Conference Member Added")
    names = [v.get("name") for v in children(child(added, "data"), "value")]
    assert names == [
        "name",
        "username",
        "private_ip",
        "public_ip",
        "embassies",
        "hostname",
        "os",
        "support_teams",
        "user_id",
    ]


def test_the_system_acts_with_gsnumber_0(reporting: ReportingApi, reporters: Reporters, history: History) -> None:
    session = one(reporting, reporters, history.embassy)
    end = next(e for e in events(session) if e.get("event_type") == "Session End")
    performed_by = child(end, "performed_by")
    assert (performed_by.get("type"), performed_by.get("gsnumber")) == ("system", "0")
    assert [(v.get("name"), v.get("value")) for v in children(child(end, "data"), "value")] == [
        ("reason", "terminated")
    ]


def test_a_chat_line_xml_cannot_carry_comes_base64_encoded(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    for ns in (True, False):
        session = one(reporting, reporters, history.full, ns=ns)
        encoded = [e for e in events(session) if has(e, "encoded_body")]
        assert len(encoded) == 1
        assert not has(encoded[0], "body")
        assert base64.b64decode(text(encoded[0], "encoded_body")).decode("utf-8") == BINARY_CHAT


def test_system_information_has_categories_with_described_fields_and_rows(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    event = next(e for e in events(session) if e.get("event_type") == "System Information Retrieved")
    categories = children(child(event, "system_information"), "category")
    assert [c.get("name") for c in categories] == ["Drives", "Operating System"]
    drives = categories[0]
    fields = children(child(drives, "description"), "field")
    assert [(f.get("id"), f.get("name"), f.text) for f in fields] == [
        ("drive", "Drive", "Drive"),
        ("type", "Type", "Type"),
        ("used", "Percent Used", "Percent Used"),
    ]
    rows = children(child(drives, "data"), "row")
    assert [[(f.get("id"), f.text) for f in children(row, "field")] for row in rows] == [
        [("drive", "C:\\"), ("type", "Local Disk"), ("used", "60%")],
        [("drive", "D:\\"), ("type", "DVD"), ("used", "0%")],
    ]
    assert all(f.get("name") for row in rows for f in children(row, "field"))


def test_file_transfers_carry_filename_filesize_and_files(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    transfers = [e for e in events(session) if e.get("event_type") in ("File Upload", "File Download")]
    assert [(e.get("event_type"), text(e, "filename"), text(e, "filesize")) for e in transfers] == [
        ("File Upload", "fix.ps1", "24"),
        ("File Download", "error.log", "140"),
    ]
    assert tags(transfers[0]) == ["performed_by", "destination", "filename", "filesize", "files"]
    files = children(child(transfers[0], "files"), "file")
    assert [(f.get("name"), f.get("size")) for f in files] == [("fix.ps1", "24")]


def test_exit_surveys_are_listed_with_the_questions_as_configured(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    survey = child(child(session, "cust_survey_list"), "cust_exit_survey")
    assert survey.get("gsnumber") == child(session, "primary_customer").get("gsnumber")
    questions = children(child(survey, "question_list"), "question")
    assert [
        (q.get("id"), text(q, "name"), [a.text for a in children(child(q, "answer_list"), "answer")]) for q in questions
    ] == [
        (str(history.questions["rating"]), "rating", ["Good"]),
        (str(history.questions["topics"]), "topics", ["Printer", "VPN"]),
        (str(history.questions["comments"]), "comments", ["Quick & kind <3"]),
    ]
    rep_survey = child(child(session, "rep_survey_list"), "rep_exit_survey")
    assert rep_survey.get("gsnumber") == str(history.logins.rep_a)
    # A session whose customer answered only some questions shows the others blank.
    transferred = one(reporting, reporters, history.transferred)
    answers = [
        [a.text or "" for a in children(child(q, "answer_list"), "answer")]
        for q in children(
            child(child(child(transferred, "cust_survey_list"), "cust_exit_survey"), "question_list"), "question"
        )
    ]
    assert answers == [["Bad"], [""], [""]]
    assert not has(transferred, "rep_survey_list")


def test_recording_links_are_given_to_those_who_may_see_recordings(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    session = one(reporting, reporters, history.full)
    shells = children(child(session, "command_shell_recordings"), "command_shell_recording")
    assert [s.get("instance") for s in shells] == ["0", "1", "2"]
    assert tags(shells[0]) == ["download_url", "view_url"]
    hidden = children(
        reporting.call("SupportSession", reporters.no_recordings.params, ns=True, lsid=history.full), "session"
    )[0]
    assert has(hidden, "session_chat_view_url")
    for tag in ("session_recording_view_url", "session_recording_download_url", "command_shell_recordings"):
        assert not has(hidden, tag)


def test_the_later_form_adds_the_sessions_custom_attributes(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    assert not has(one(reporting, reporters, history.full, ns=True), "custom_attributes")
    later = one(reporting, reporters, history.full, ns=False)
    attributes = children(child(later, "custom_attributes"), "custom_attribute")
    assert [(a.get("code_name"), a.get("display_name"), a.text) for a in attributes] == [
        ("ticket_system", "Ticket System", "servicenow")
    ]
    assert tags(later).index("custom_attributes") == tags(later).index("external_key") + 1


def test_sessions_come_in_the_order_they_started(
    reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    root = reporting.call("SupportSession", reporters.everything.params, start_date="2000-01-01", duration=0)
    lseqs = [int(text(s, "lseq")) for s in children(root, "session")]
    assert lseqs == sorted(lseqs)
    assert set(sessions_by_lsid(root)) == set(history.all)


@pytest.mark.parametrize("ns", [True, False])
def test_the_answer_streams_with_the_exact_framing_integrations_expect(
    reporting: ReportingApi, reporters: Reporters, history: History, ns: bool
) -> None:
    response = reporting.raw("SupportSession", reporters.everything.params, ns=ns, start_date="2000-01-01", duration=0)
    assert response.headers["content-type"] == "text/xml; charset=UTF-8"
    assert response.headers.get("transfer-encoding") == "chunked"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<session_list xmlns="')
    assert b"<error" not in response.content
