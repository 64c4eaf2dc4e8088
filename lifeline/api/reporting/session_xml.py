"""SupportSession's `<session>` element written as text, for speed.

A session of about twenty events is some 8 KB of XML; building it as lxml elements and
serializing them costs several times what serializing alone does, which is what caps a
large SupportSession report. This module writes the same bytes with string formatting.
`render.session_element` (lxml) stays the reference: the tests hold every function here
to producing exactly what lxml writes for the same records (`pretty_print`, a session
at the top level of its list), text that XML cannot carry included.

The parts of an ended session that can no longer change (`reports.frozen.FrozenParts`) are
written once and kept (see `reports.freezing`); everything else is written per answer, because it
shows names, questions, times and links as they are now.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lifeline.api.endpoint import Era
from lifeline.api.reporting.render import View, hms
from lifeline.api.xml import unix_and_iso8601
from lifeline.api.xml import xml_attr as attr
from lifeline.api.xml import xml_text as text
from lifeline.recordings.actions import RecordingKind
from lifeline.reports.answers import SurveyAnswers
from lifeline.reports.frozen import FrozenParts, XmlParts
from lifeline.reports.records import Event, Participant, Question, SessionReport
from lifeline.text import is_xml_safe, xml_safe

Out = list[str]


# --- the session -------------------------------------------------------------------------


def frozen_parts(s: SessionReport) -> FrozenParts:
    return FrozenParts.of(_xml_parts(s), [team.id for team in s.teams], dict(s.attributes), list(s.surveys))


def _xml_parts(s: SessionReport) -> XmlParts:
    """What a frozen copy keeps of a session's XML, written from its records."""
    people: Out = []
    _primary_customer(people, s)
    rep = s.primary_rep
    if rep is not None:
        people.append(
            f'  <primary_rep gsnumber="{rep.gsnumber}" id="{rep.user_id or 0}">{text(rep.display_name)}</primary_rep>\n'
        )
    lists: Out = []
    _customer_list(lists, s)
    _rep_list(lists, s)
    return XmlParts("".join(people).encode(), "".join(lists).encode(), session_details(s.events).encode())


def session_text(view: View, s: SessionReport) -> bytes:
    """One session element (a report writes many: `SessionWriter`)."""
    return SessionWriter(view).session(s)


class SessionWriter:
    """Writes the `<session>` elements of one answer. What is the same for all of them
    (survey questions, the links' base) is escaped once, not once a session."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.later = view.era is Era.LATER
        # A link is the base URL, then a path and query in which only "&" needs escaping.
        base = view.links.base_url
        self._plain_base = text(base) == base
        self._questions = {kind: _question_heads(questions) for kind, questions in view.questions.items()}

    def session(self, s: SessionReport) -> bytes:
        """The session element in UTF-8, with its frozen parts if it has them (else from
        its records). Frozen parts are UTF-8 already: only the parts written now are encoded."""
        view = self.view
        people, lists, details = s.frozen.xml() if s.frozen else _xml_parts(s)
        jumpoint = (
            f'  <jumpoint id="{s.jumpoint_id}">{text(s.jumpoint_name)}</jumpoint>\n'
            if s.jumpoint_id is not None
            else ""
        )
        head = (
            f'<session lsid="{attr(s.lsid)}">\n  <session_type>{text(s.session_type)}</session_type>\n'
            f"  <lseq>{s.id}</lseq>\n{_time(view, 'start_time', s.start_time)}{_time(view, 'end_time', s.end_time)}"
            f"  <duration>{hms(s.duration_seconds(view.now))}</duration>\n"
            f'  <public_site id="{s.public_site_id}">{text(s.public_site_name)}</public_site>\n{jumpoint}'
            f"  <external_key>{text(s.external_key)}</external_key>\n"
            f"{_custom_attributes(view, s) if self.later else ''}{self._links(s) if s.ended else ''}"
            f"  <file_transfer_count>{s.file_transfer_count}</file_transfer_count>\n"
        )
        team = s.primary_team
        primary_team = f'  <primary_team id="{team.id}">{text(team.name)}</primary_team>\n' if team else ""
        teams = _team_list(s)
        surveys = self._surveys(s) if s.ended and s.surveys else ""
        return b"".join(
            (
                head.encode(),
                people,
                primary_team.encode(),
                lists,
                teams.encode(),
                surveys.encode(),
                details,
                b"</session>\n",
            )
        )

    def _url(self, url: str) -> str:
        return url.replace("&", "&amp;") if self._plain_base else text(url)

    def _links(self, s: SessionReport) -> str:
        view = self.view
        view_url, download_url = view.links.chat_pair(s.lsid)
        links = (
            f"  <session_chat_view_url>{self._url(view_url)}</session_chat_view_url>\n"
            f"  <session_chat_download_url>{self._url(download_url)}</session_chat_download_url>\n"
        )
        if not view.recordings or not s.recordings:
            return links
        out: Out = [links]
        screen = s.recording(RecordingKind.SCREEN.value)
        if screen is not None and screen.finished:
            for tag, view_it in (("session_recording_view_url", True), ("session_recording_download_url", False)):
                url = view.links.recording(s.lsid, "recording", view=view_it)
                out.append(f"  <{tag}>{self._url(url)}</{tag}>\n")
        shells = [r for r in s.recordings if r.kind == RecordingKind.COMMAND_SHELL.value and r.finished]
        if shells:
            out.append("  <command_shell_recordings>\n")
            for shell in shells:
                out.append(f'    <command_shell_recording instance="{shell.instance}">\n')
                for tag, view_it in (("download_url", False), ("view_url", True)):
                    url = view.links.recording(s.lsid, "command_shell", view=view_it, instance=shell.instance)
                    out.append(f"      <{tag}>{self._url(url)}</{tag}>\n")
                out.append("    </command_shell_recording>\n")
            out.append("  </command_shell_recordings>\n")
        return "".join(out)

    def _surveys(self, s: SessionReport) -> str:
        out: Out = []
        for kind, list_tag, tag in (
            ("customer", "cust_survey_list", "cust_exit_survey"),
            ("representative", "rep_survey_list", "rep_exit_survey"),
        ):
            surveys = [answers for answers in s.surveys if answers.survey == kind]
            if not surveys:
                continue
            out.append(f"  <{list_tag}>\n")
            heads = self._questions.get(kind, [])
            for answers in surveys:
                out.append(f'    <{tag} gsnumber="{answers.gsnumber}">\n')
                _questions(out, heads, answers)
                out.append(f"    </{tag}>\n")
            out.append(f"  </{list_tag}>\n")
        return "".join(out)


def _time(view: View, tag: str, moment: datetime | None) -> str:
    if moment is None:
        return f"  <{tag}></{tag}>\n"
    timestamp, written = unix_and_iso8601(moment, view.zone)
    return f'  <{tag} timestamp="{timestamp}">{written}</{tag}>\n'


def _custom_attributes(view: View, s: SessionReport) -> str:
    if not s.attributes:
        return "  <custom_attributes></custom_attributes>\n"
    out: Out = ["  <custom_attributes>\n"]
    for code_name, value in s.attributes.items():
        name = attr(xml_safe(view.attribute_names.get(code_name, code_name)))
        out.append(
            f'    <custom_attribute display_name="{name}" code_name="{attr(code_name)}">'
            f"{text(value)}</custom_attribute>\n"
        )
    out.append("  </custom_attributes>\n")
    return "".join(out)


def _primary_customer(out: Out, s: SessionReport) -> None:
    customer = s.primary_customer
    gsnumber = customer.gsnumber if customer else 0
    name = customer.display_name if customer else s.customer_name
    out.append(f'  <primary_customer gsnumber="{gsnumber}">{text(name)}</primary_customer>\n')


def _machine(out: Out, who: Participant) -> None:
    out.append(
        f"      <username>{text(who.username)}</username>\n"
        f"      <public_ip>{text(who.public_ip)}</public_ip>\n"
        f"      <private_ip>{text(who.private_ip)}</private_ip>\n"
        f"      <hostname>{text(who.hostname)}</hostname>\n"
        f"      <os>{text(who.os)}</os>\n"
    )


def _customer_list(out: Out, s: SessionReport) -> None:
    customers = s.customers
    if not customers:
        out.append("  <customer_list></customer_list>\n")
        return
    out.append("  <customer_list>\n")
    for customer in customers:
        out.append(f'    <customer gsnumber="{customer.gsnumber}">\n')
        _machine(out, customer)
        primary = customer.primary_cust
        out.append(f"      <primary_cust>{'1' if primary else '0'}</primary_cust>\n      <info>\n")
        if primary:
            out.append(
                f"        <name>{text(s.customer_name)}</name>\n"
                f"        <company>{text(s.customer_company)}</company>\n"
                f"        <company_code>{text(s.customer_company_code)}</company_code>\n"
                f"        <issue>{text(s.customer_issue)}</issue>\n"
                f"        <details>{text(s.customer_details)}</details>\n"
            )
        else:
            out.append(
                f"        <name>{text(customer.display_name)}</name>\n"
                "        <company></company>\n        <company_code></company_code>\n"
                "        <issue></issue>\n        <details></details>\n"
            )
        out.append("      </info>\n    </customer>\n")
    out.append("  </customer_list>\n")


def _rep_list(out: Out, s: SessionReport) -> None:
    reps = s.reps
    if not reps:
        out.append("  <rep_list></rep_list>\n")
        return
    out.append("  <rep_list>\n")
    primary = s.primary_rep
    for rep in reps:
        out.append(
            f'    <representative gsnumber="{rep.gsnumber}" id="{rep.user_id or 0}">\n'
            f"      <username>{text(rep.username)}</username>\n"
            f"      <display_name>{text(rep.display_name)}</display_name>\n"
            f"      <display_number>{text(rep.display_number)}</display_number>\n"
            f"      <public_ip>{text(rep.public_ip)}</public_ip>\n"
            f"      <private_ip>{text(rep.private_ip)}</private_ip>\n"
            f"      <hostname>{text(rep.hostname)}</hostname>\n"
            f"      <os>{text(rep.os)}</os>\n"
            f"      <session_owner>{'1' if rep.session_owner else '0'}</session_owner>\n"
            f"      <primary_rep>{'1' if rep is primary else '0'}</primary_rep>\n"
            f"      <seconds_involved>{rep.seconds_involved}</seconds_involved>\n"
        )
        if rep.embassy:
            out.append("      <embassy>1</embassy>\n")
        if rep.invited:
            out.append("      <invited>1</invited>\n")
        out.append("    </representative>\n")
    out.append("  </rep_list>\n")


def _team_list(s: SessionReport) -> str:
    if not s.teams:
        return "  <team_list></team_list>\n"
    out: Out = ["  <team_list>\n"]
    for team in s.teams:
        primary = "1" if team.primary else "0"
        out.append(f'    <team id="{team.id}" primary_team="{primary}">{text(team.name)}</team>\n')
    out.append("  </team_list>\n")
    return "".join(out)


def _question_heads(questions: Sequence[Question]) -> list[tuple[str, str]]:
    """Each question's id (as answers are keyed) and its element up to its answers."""
    return [
        (
            str(question.id),
            f'        <question id="{question.id}">\n'
            f"          <name>{text(question.name)}</name>\n"
            f"          <type>{text(question.type)}</type>\n"
            f"          <label>{text(question.label)}</label>\n"
            f"          <report_header>{text(question.report_header)}</report_header>\n"
            "          <answer_list>\n",
        )
        for question in questions
    ]


def _questions(out: Out, heads: list[tuple[str, str]], answers: SurveyAnswers) -> None:
    if not heads:
        out.append("      <question_list/>\n")
        return
    out.append("      <question_list>\n")
    for question_id, head in heads:
        out.append(head)
        for answer in answers.answers.get(question_id) or [""]:
            out.append(f"            <answer>{text(answer)}</answer>\n")
        out.append("          </answer_list>\n        </question>\n")
    out.append("      </question_list>\n")


# --- the event log -----------------------------------------------------------------------


def session_details(events: Sequence[Event]) -> str:
    """`<session_details>` with every event, as it sits in a session (indented once)."""
    if not events:
        return "  <session_details/>\n"
    out: Out = ["  <session_details>\n"]
    for e in events:
        out.append(
            f'    <event timestamp="{e.timestamp}" event_type="{attr(e.event_type)}">\n'
            f'      <performed_by type="{attr(e.performed_by_type)}" gsnumber="{e.performed_by_gsnumber}">'
            f"{text(e.performed_by_name)}</performed_by>\n"
        )
        if e.destination_type is not None:
            out.append(
                f'      <destination type="{attr(e.destination_type)}" gsnumber="{e.destination_gsnumber or 0}">'
                f"{text(e.destination_name)}</destination>\n"
            )
        if e.body is not None:
            if is_xml_safe(e.body):
                out.append(f"      <body>{text(e.body)}</body>\n")
            else:
                encoded = base64.b64encode(e.body.encode("utf-8", "surrogatepass")).decode("ascii")
                out.append(f"      <encoded_body>{encoded}</encoded_body>\n")
        if e.filename is not None:
            out.append(f"      <filename>{text(e.filename)}</filename>\n")
        if e.filesize is not None:
            out.append(f"      <filesize>{e.filesize}</filesize>\n")
        if e.system_information:
            _system_information(out, e.system_information)
        if e.files:
            out.append("      <files>\n")
            for item in e.files:
                name = attr(xml_safe(str(item.get("name", ""))))
                out.append(f'        <file name="{name}" size="{attr(str(item.get("size", 0)))}"/>\n')
            out.append("      </files>\n")
        if e.data:
            out.append("      <data>\n")
            for name, value in e.data:
                if not is_xml_safe(name + value):
                    name, value = xml_safe(name), xml_safe(value)
                out.append(f'        <value name="{attr(name)}" value="{attr(value)}"/>\n')
            out.append("      </data>\n")
        out.append("    </event>\n")
    out.append("  </session_details>\n")
    return "".join(out)


def _system_information(out: Out, categories: list[dict[str, Any]]) -> None:
    out.append("      <system_information>\n")
    for category in categories:
        out.append(f'        <category name="{attr(xml_safe(str(category.get("name", ""))))}">\n')
        fields = [(attr(xml_safe(str(field_id))), xml_safe(str(name))) for field_id, name in category.get("fields", [])]
        if fields:
            out.append("          <description>\n")
            for field_id, name in fields:
                out.append(f'            <field name="{attr(name)}" id="{field_id}">{text(name)}</field>\n')
            out.append("          </description>\n")
        else:
            out.append("          <description/>\n")
        rows = category.get("rows", [])
        if not rows:
            out.append("          <data/>\n")
        else:
            out.append("          <data>\n")
            for values in rows:
                cells = list(zip(fields, values, strict=False))
                if not cells:
                    out.append("            <row/>\n")
                    continue
                out.append("            <row>\n")
                for (field_id, name), value in cells:
                    out.append(f'              <field name="{attr(name)}" id="{field_id}">{text(str(value))}</field>\n')
                out.append("            </row>\n")
            out.append("          </data>\n")
        out.append("        </category>\n")
    out.append("      </system_information>\n")
