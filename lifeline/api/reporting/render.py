"""The Reporting API's elements, built from report records.

Elements are made without a namespace and written inside a root that declares the
answer's namespace as its default, so they are in it (no prefixes, no repeated xmlns).
Text that XML cannot carry never reaches lxml: chat bodies become `encoded_body`
(base64, as the guide says), anything else has such characters replaced.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from lifeline.api.endpoint import Era
from lifeline.api.reporting.links import DownloadLinks
from lifeline.api.xml import iso8601, unix
from lifeline.recordings.actions import RecordingKind
from lifeline.reports.answers import SurveyAnswers
from lifeline.reports.records import Event, Participant, Question, SessionReport
from lifeline.reports.summary import Summary
from lifeline.reports.teams import LoggedInRep, TeamEvent
from lifeline.text import is_xml_safe, xml_safe

Element = etree._Element
SE = etree.SubElement


# Attributes are set one by one: lxml takes an attribute dict at creation at twice the cost.


def node(parent: Element, tag: str, attrib: dict[str, str] | None = None) -> Element:
    element = SE(parent, tag)
    if attrib:
        for name, value in attrib.items():
            element.set(name, value)
    return element


def leaf(parent: Element, tag: str, text: str, attrib: dict[str, str] | None = None) -> Element:
    element = node(parent, tag, attrib)
    try:
        element.text = text
    except ValueError:
        element.text = xml_safe(text)
    return element


def actor(parent: Element, tag: str, kind: str, gsnumber: int, name: str) -> None:
    """performed_by or destination: who, as type, gsnumber and name (the hottest element)."""
    element = SE(parent, tag)
    element.set("type", kind)
    element.set("gsnumber", str(gsnumber))
    try:
        element.text = name
    except ValueError:
        element.text = xml_safe(name)


def hms(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


@dataclass
class View:
    """What every element of one answer depends on beyond its record."""

    era: Era
    zone: ZoneInfo
    links: DownloadLinks
    recordings: bool  # the caller may see recordings
    now: datetime
    questions: dict[str, list[Question]]  # survey kind -> its questions as configured now
    attribute_names: dict[str, str]  # custom attribute code name -> display name

    def time(self, parent: Element, tag: str, moment: datetime | None) -> Element:
        if moment is None:
            return leaf(parent, tag, "")
        return leaf(parent, tag, iso8601(moment, self.zone), {"timestamp": unix(moment)})


# --- SupportSession ----------------------------------------------------------------------


def session_element(view: View, s: SessionReport) -> Element:
    root = etree.Element("session", lsid=s.lsid)
    leaf(root, "session_type", s.session_type)
    leaf(root, "lseq", str(s.id))
    view.time(root, "start_time", s.start_time)
    view.time(root, "end_time", s.end_time)
    leaf(root, "duration", hms(s.duration_seconds(view.now)))
    leaf(root, "public_site", s.public_site_name, {"id": str(s.public_site_id)})
    if s.jumpoint_id is not None:
        leaf(root, "jumpoint", s.jumpoint_name, {"id": str(s.jumpoint_id)})
    leaf(root, "external_key", s.external_key)
    if view.era is Era.LATER:
        attributes = SE(root, "custom_attributes")
        for code_name, value in s.attributes.items():
            name = view.attribute_names.get(code_name, code_name)
            leaf(attributes, "custom_attribute", value, {"display_name": xml_safe(name), "code_name": code_name})
        _open_close(attributes)
    _session_links(view, root, s)
    leaf(root, "file_transfer_count", str(s.file_transfer_count))
    primary_customer(root, s)
    rep = s.primary_rep
    if rep is not None:
        leaf(root, "primary_rep", rep.display_name, {"gsnumber": str(rep.gsnumber), "id": str(rep.user_id or 0)})
    team = s.primary_team
    if team is not None:
        leaf(root, "primary_team", team.name, {"id": str(team.id)})
    customer_list(root, s)
    rep_list(root, s)
    team_list(root, s)
    for kind, list_tag, tag in (
        ("customer", "cust_survey_list", "cust_exit_survey"),
        ("representative", "rep_survey_list", "rep_exit_survey"),
    ):
        surveys = [answers for answers in s.surveys if answers.survey == kind]
        if surveys and s.ended:
            holder = SE(root, list_tag)
            for answers in surveys:
                survey = node(holder, tag, {"gsnumber": str(answers.gsnumber)})
                question_list(survey, view.questions.get(kind, []), answers)
    details = SE(root, "session_details")
    for event in s.events:
        event_element(details, event)
    return root


def _session_links(view: View, root: Element, s: SessionReport) -> None:
    if not s.ended:
        return
    leaf(root, "session_chat_view_url", view.links.chat(s.lsid, view=True))
    leaf(root, "session_chat_download_url", view.links.chat(s.lsid, view=False))
    if not view.recordings:
        return
    screen = s.recording(RecordingKind.SCREEN.value)
    if screen is not None and screen.finished:
        leaf(root, "session_recording_view_url", view.links.recording(s.lsid, "recording", view=True))
        leaf(root, "session_recording_download_url", view.links.recording(s.lsid, "recording", view=False))
    shells = [r for r in s.recordings if r.kind == RecordingKind.COMMAND_SHELL.value and r.finished]
    if shells:
        holder = SE(root, "command_shell_recordings")
        for shell in shells:
            element = node(holder, "command_shell_recording", {"instance": str(shell.instance)})
            for tag, view_it in (("download_url", False), ("view_url", True)):
                url = view.links.recording(s.lsid, "command_shell", view=view_it, instance=shell.instance)
                leaf(element, tag, url)


def primary_customer(parent: Element, s: SessionReport, attrib: dict[str, str] | None = None) -> None:
    customer = s.primary_customer
    gsnumber = str(customer.gsnumber) if customer else "0"
    name = customer.display_name if customer else s.customer_name
    leaf(parent, "primary_customer", name, {**(attrib or {}), "gsnumber": gsnumber})


def customer_list(parent: Element, s: SessionReport) -> None:
    holder = SE(parent, "customer_list")
    for customer in s.customers:
        element = node(holder, "customer", {"gsnumber": str(customer.gsnumber)})
        _machine(element, customer)
        leaf(element, "primary_cust", "1" if customer.primary_cust else "0")
        info = SE(element, "info")
        primary = customer.primary_cust
        leaf(info, "name", s.customer_name if primary else customer.display_name)
        leaf(info, "company", s.customer_company if primary else "")
        leaf(info, "company_code", s.customer_company_code if primary else "")
        leaf(info, "issue", s.customer_issue if primary else "")
        leaf(info, "details", s.customer_details if primary else "")
    _open_close(holder)


def _machine(element: Element, who: Participant) -> None:
    leaf(element, "username", who.username)
    leaf(element, "public_ip", who.public_ip)
    leaf(element, "private_ip", who.private_ip)
    leaf(element, "hostname", who.hostname)
    leaf(element, "os", who.os)


def rep_list(parent: Element, s: SessionReport) -> None:
    holder = SE(parent, "rep_list")
    primary = s.primary_rep
    for rep in s.reps:
        element = node(holder, "representative", {"gsnumber": str(rep.gsnumber), "id": str(rep.user_id or 0)})
        leaf(element, "username", rep.username)
        leaf(element, "display_name", rep.display_name)
        leaf(element, "display_number", rep.display_number)
        leaf(element, "public_ip", rep.public_ip)
        leaf(element, "private_ip", rep.private_ip)
        leaf(element, "hostname", rep.hostname)
        leaf(element, "os", rep.os)
        leaf(element, "session_owner", "1" if rep.session_owner else "0")
        leaf(element, "primary_rep", "1" if rep is primary else "0")
        leaf(element, "seconds_involved", str(rep.seconds_involved))
        if rep.embassy:
            leaf(element, "embassy", "1")
        if rep.invited:
            leaf(element, "invited", "1")
    _open_close(holder)


def team_list(parent: Element, s: SessionReport) -> None:
    holder = SE(parent, "team_list")
    for team in s.teams:
        leaf(holder, "team", team.name, {"id": str(team.id), "primary_team": "1" if team.primary else "0"})
    _open_close(holder)


def _open_close(element: Element) -> None:
    """An empty list as an open and a close tag, as real appliances write them."""
    if not len(element):
        element.text = ""


def question_list(parent: Element, questions: Sequence[Question], answers: SurveyAnswers) -> None:
    holder = SE(parent, "question_list")
    for question in questions:
        element = node(holder, "question", {"id": str(question.id)})
        leaf(element, "name", question.name)
        leaf(element, "type", question.type)
        leaf(element, "label", question.label)
        leaf(element, "report_header", question.report_header)
        given = SE(element, "answer_list")
        for answer in answers.answers.get(str(question.id)) or [""]:
            leaf(given, "answer", answer)


def body(parent: Element, text: str) -> None:
    """The message text, or its base64 when it holds characters XML cannot carry."""
    if is_xml_safe(text):
        leaf(parent, "body", text)
    else:
        leaf(parent, "encoded_body", base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii"))


def event_element(parent: Element, e: Event) -> None:
    element = SE(parent, "event")
    element.set("timestamp", str(e.timestamp))
    element.set("event_type", e.event_type)
    actor(element, "performed_by", e.performed_by_type, e.performed_by_gsnumber, e.performed_by_name)
    if e.destination_type is not None:
        actor(element, "destination", e.destination_type, e.destination_gsnumber or 0, e.destination_name)
    if e.body is not None:
        body(element, e.body)
    if e.filename is not None:
        leaf(element, "filename", e.filename)
    if e.filesize is not None:
        leaf(element, "filesize", str(e.filesize))
    if e.system_information:
        system_information(element, e.system_information)
    if e.files:
        files(element, e.files)
    if e.data:
        data(element, e.data)


def system_information(parent: Element, categories: list[dict[str, Any]]) -> None:
    holder = SE(parent, "system_information")
    for category in categories:
        element = node(holder, "category", {"name": xml_safe(str(category.get("name", "")))})
        fields = [(xml_safe(str(field_id)), xml_safe(str(name))) for field_id, name in category.get("fields", [])]
        description = SE(element, "description")
        for field_id, name in fields:
            leaf(description, "field", name, {"name": name, "id": field_id})
        rows = SE(element, "data")
        for values in category.get("rows", []):
            row = SE(rows, "row")
            for (field_id, name), value in zip(fields, values, strict=False):
                leaf(row, "field", str(value), {"name": name, "id": field_id})


def files(parent: Element, items: list[dict[str, Any]]) -> None:
    holder = SE(parent, "files")
    for item in items:
        node(holder, "file", {"name": xml_safe(str(item.get("name", ""))), "size": str(item.get("size", 0))})


def data(parent: Element, values: list[list[str]]) -> None:
    holder = SE(parent, "data")
    for name, value in values:
        if not is_xml_safe(name + value):
            name, value = xml_safe(name), xml_safe(value)
        node(holder, "value", {"name": name, "value": value})


# --- SupportSessionListing and SupportSessionSummary -------------------------------------


def listing_element(s: SessionReport) -> Element:
    attrib = {"lsid": s.lsid, "has_recording": "1" if s.has_recording else "0"}
    if s.external_key:
        attrib["external_key"] = xml_safe(s.external_key)
    element = etree.Element("session_summary", attrib)
    leaf(element, "lseq", str(s.id))
    return element


def summary_element(summary: Summary) -> Element:
    element = etree.Element("summary", id=str(summary.id), type=summary.type.value)
    leaf(element, "display_name", summary.display_name)
    leaf(element, "total_sessions", str(summary.total_sessions))
    leaf(element, "avg_sessions_per_weekday", f"{summary.avg_sessions_per_weekday:.1f}")
    leaf(element, "avg_duration", hms(summary.avg_duration_seconds))
    return element


# --- exit surveys ------------------------------------------------------------------------


def exit_survey_element(view: View, s: SessionReport, answers: SurveyAnswers) -> Element:
    start = unix(s.start_time)
    # `ts` is the guide's; `timestamp` (the same UNIX seconds) is what integrations read.
    element = etree.Element("exit_survey", lsid=s.lsid, ts=start, timestamp=start)
    leaf(element, "session_type", s.session_type)
    leaf(element, "public_site", s.public_site_name, {"id": str(s.public_site_id)})
    kind = "cust" if answers.survey == "customer" else "rep"
    leaf(element, "submitted_by", answers.name, {"type": kind, "gsnumber": str(answers.gsnumber)})
    primary_customer(element, s, {"id": "0"})
    rep = s.primary_rep
    if rep is not None:
        leaf(element, "primary_rep", rep.display_name, {"id": str(rep.user_id or 0), "gsnumber": str(rep.gsnumber)})
    team = s.primary_team
    if team is not None:
        leaf(element, "primary_team", team.name, {"id": str(team.id)})
    customer_list(element, s)
    rep_list(element, s)
    team_list(element, s)
    leaf(element, "rep_resolved", "0")
    question_list(element, view.questions.get(answers.survey, []), answers)
    return element


# --- SupportTeam -------------------------------------------------------------------------


def logged_in_element(reps: list[LoggedInRep]) -> Element:
    element = etree.Element("logged_in_representatives")
    for rep in reps:
        item = node(element, "representative", {"gsnumber": str(rep.gsnumber), "id": str(rep.id)})
        leaf(item, "display_name", rep.display_name)
        leaf(item, "public_ip", rep.public_ip)
        leaf(item, "private_ip", rep.private_ip)
    _open_close(element)
    return element


def team_event_element(e: TeamEvent) -> Element:
    element = etree.Element("event")
    element.set("timestamp", str(e.timestamp))
    element.set("event_type", e.event_type)
    actor(element, "performed_by", e.performed_by_type, e.performed_by_gsnumber, e.performed_by_name)
    if e.destinations:
        holder = SE(element, "destinations")
        for gsnumber, name in e.destinations:
            leaf(holder, "destination", name, {"gsnumber": str(gsnumber)})
    if e.files:
        files(element, e.files)
    if e.data:
        data(element, e.data)
    if e.body is not None:
        body(element, e.body)
    return element
