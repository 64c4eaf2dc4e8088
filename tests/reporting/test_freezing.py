"""Through the running appliance: its freezer freezes the ended sessions of a real history,
SupportSession then answers from the frozen copies with the same bytes it wrote from the events,
and an event appended after the frozen copy (an exit survey after the end) shows at once."""

from __future__ import annotations

import re

from lxml import etree
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lifeline.reports.frozen import FORMAT, FrozenParts, XmlParts
from lifeline.reports.models import FrozenSessionDetails
from lifeline.sessions import actions as engine
from lifeline.sessions.models import SessionEvent, SupportSession
from lifeline.surveys.actions import SurveyKind, submit_survey
from tests.support.appliance import RunningAppliance, eventually
from tests.support.history import History
from tests.support.reporting import Reporters, ReportingApi, child, children, sessions_by_lsid

ALL_TIME = {"start_date": "2000-01-01", "duration": "0"}
MARK = "Frozen, not read from the events"


def current_frozen(appliance: RunningAppliance) -> dict[str, int]:
    """lsid -> event id its frozen copy runs through, for those still current."""

    def read(session: Session) -> dict[str, int]:
        last = (
            select(SessionEvent.session_id, func.max(SessionEvent.id).label("last"))
            .group_by(SessionEvent.session_id)
            .subquery()
        )
        rows = session.execute(
            select(SupportSession.lsid, FrozenSessionDetails.through_event_id)
            .join(FrozenSessionDetails, FrozenSessionDetails.session_id == SupportSession.id)
            .join(last, last.c.session_id == SupportSession.id)
            .where(FrozenSessionDetails.through_event_id == last.c.last)
        )
        return {lsid: through for lsid, through in rows}  # noqa: C416 - rows are not pairs to mypy

    return appliance.with_session(read)


def report(reporting: ReportingApi, reporters: Reporters, *, ns: bool) -> dict[str, str]:
    """Each ended session's element as the answer wrote it, byte for byte (sessions still
    in progress change from one answer to the next: their duration grows)."""
    return written_sessions(answer(reporting, reporters, ns=ns)[0])


def written_sessions(raw: bytes) -> dict[str, str]:
    found = re.findall(r'(<session lsid="(\w+)">.*?</session>\n)', raw.decode(), re.DOTALL)
    return {lsid: element for element, lsid in found if "<end_time></end_time>" not in element}


def answer(reporting: ReportingApi, reporters: Reporters, *, ns: bool) -> tuple[bytes, etree._Element]:
    response = reporting.raw("SupportSession", reporters.everything.params, ns=ns, **ALL_TIME)
    return response.content, reporting.check(response, ns=ns)  # every answer validates against the XSD


def test_ended_sessions_are_frozen_and_answer_with_the_same_bytes(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    def all_frozen() -> dict[str, int]:
        frozen = current_frozen(appliance)
        assert set(frozen) == set(history.ended)  # sessions waiting or in progress are not frozen
        return frozen

    eventually(all_frozen, timeout=15)

    # Every frozen copy of another format: the report writes every session from its rows (the
    # freezer leaves them until its next full sweep, minutes away: no new events)...
    def set_format(value: int) -> None:
        appliance.with_session(lambda s: s.execute(update(FrozenSessionDetails).values(format=value)))

    set_format(FORMAT - 1)
    try:
        first = {ns: report(reporting, reporters, ns=ns) for ns in (True, False)}
    finally:
        set_format(FORMAT)
    # ...and from the frozen copies once they are current again: the same bytes.
    assert current_frozen(appliance).keys() == set(history.ended)
    assert {ns: report(reporting, reporters, ns=ns) for ns in (True, False)} == first
    assert set(first[True]) == set(history.ended)


def test_a_report_uses_a_frozen_copy_only_while_nothing_was_logged_after_it(
    appliance: RunningAppliance, reporting: ReportingApi, reporters: Reporters, history: History
) -> None:
    frozen = eventually(lambda: _frozen(appliance, history.embassy), timeout=15)

    # Mark the frozen copy, to tell a report that read it from one that wrote the events.
    def mark(session: Session) -> None:
        row = session.get(FrozenSessionDetails, frozen)
        assert row is not None
        freeze = FrozenParts.unpacked(row.xml)
        people, lists, details = freeze.xml()
        details = bytes(details).replace(b"</session_details>", f"<!--{MARK}--></session_details>".encode())
        marked = FrozenParts.of(XmlParts(people, lists, details), freeze.team_ids, freeze.attributes, freeze.surveys)
        session.execute(
            update(FrozenSessionDetails).where(FrozenSessionDetails.session_id == frozen).values(xml=marked.packed())
        )

    appliance.with_session(mark)
    assert MARK in report(reporting, reporters, ns=True)[history.embassy]

    # The customer answers the exit survey after the end: one more event in the log.
    def survey_after_the_end(session: Session) -> None:
        found = session.get(SupportSession, frozen)
        assert found is not None
        submit_survey(session, found, SurveyKind.CUSTOMER, engine.customer_actor(session, found), {})

    appliance.with_session(survey_after_the_end)
    written, root = answer(reporting, reporters, ns=True)
    assert MARK not in written.decode()  # the frozen copy no longer counts: written from the events
    details = child(sessions_by_lsid(root)[history.embassy], "session_details")
    assert [e.get("event_type") for e in children(details, "event")][-1] == "Customer Exit Survey"

    # The freezer freezes it again (it has a new event), and the answer stays the same.
    eventually(lambda: _refrozen(appliance, history.embassy, frozen), timeout=15)
    assert report(reporting, reporters, ns=True) == written_sessions(written)


def _frozen(appliance: RunningAppliance, lsid: str) -> int:
    """The lseq of that session once its frozen copy is current."""
    assert lsid in current_frozen(appliance)
    lseq = appliance.with_session(lambda s: s.scalar(select(SupportSession.id).where(SupportSession.lsid == lsid)))
    assert lseq is not None
    return lseq


def _refrozen(appliance: RunningAppliance, lsid: str, lseq: int) -> None:
    assert lsid in current_frozen(appliance)
    row = appliance.with_session(lambda s: s.get(FrozenSessionDetails, lseq))
    assert row is not None and MARK.encode() not in bytes(FrozenParts.unpacked(row.xml).xml().details)
