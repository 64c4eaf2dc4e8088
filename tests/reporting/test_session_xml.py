"""The SupportSession writer (`session_xml`) against the reference (lxml, `render`): the same
bytes for any session, whatever its text holds (markup characters, characters XML cannot
carry, line breaks, tabs, non-ASCII), in both eras, with and without recordings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from lifeline.api.endpoint import Era
from lifeline.api.reporting import render, session_xml
from lifeline.api.reporting.links import DownloadLinks
from lifeline.reports.frozen import FrozenParts
from lifeline.reports.records import (
    Event,
    Participant,
    Question,
    RecordingOfSession,
    SessionReport,
    SurveyAnswers,
    TeamOfSession,
)

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

# Every kind of character that matters to escaping, often.
tricky = st.text(
    alphabet=st.one_of(
        st.sampled_from([*"<>&\"'\r\n\t ]é\u2028\x7f\x00\x01\x0b\ufffe\ud800", "\U0001f600"]),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
safe_code = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=10)
numbers = st.integers(min_value=0, max_value=2**40)
moments = st.integers(min_value=946_684_800, max_value=4_102_444_800).map(lambda s: datetime.fromtimestamp(s, UTC))

events = st.builds(
    Event,
    session_id=st.just(1),
    id=numbers,
    event_type=st.sampled_from(["Chat Message", "Session Start", "File Sent", "Customer Exit Survey"]),
    timestamp=numbers,
    performed_by_type=st.sampled_from(["customer", "representative", "system"]),
    performed_by_gsnumber=numbers,
    performed_by_name=tricky,
    destination_type=st.none() | st.sampled_from(["customer", "representative"]),
    destination_gsnumber=st.none() | numbers,
    destination_name=tricky,
    body=st.none() | tricky,
    filename=st.none() | tricky,
    filesize=st.none() | numbers,
    data=st.lists(st.tuples(tricky, tricky).map(list), max_size=3),
    files=st.lists(st.fixed_dictionaries({"name": tricky, "size": numbers}), max_size=2),
    system_information=st.none()
    | st.lists(
        st.fixed_dictionaries(
            {
                "name": tricky,
                "fields": st.lists(st.tuples(tricky, tricky).map(list), max_size=3),
                "rows": st.lists(st.lists(st.one_of(tricky, numbers), max_size=4), max_size=2),
            }
        ),
        max_size=2,
    ),
)

participants = st.builds(
    Participant,
    gsnumber=numbers,
    role=st.sampled_from(["customer", "representative"]),
    user_id=st.none() | numbers,
    username=tricky,
    display_name=tricky,
    display_number=tricky,
    public_ip=tricky,
    private_ip=tricky,
    hostname=tricky,
    os=tricky,
    session_owner=st.booleans(),
    primary_cust=st.booleans(),
    embassy=st.booleans(),
    invited=st.booleans(),
    seconds_involved=numbers,
)


@st.composite
def sessions(draw: st.DrawFn) -> SessionReport:
    start = draw(moments)
    ended = draw(st.booleans())
    people = draw(st.lists(participants, max_size=4))
    owner = draw(st.none() | st.sampled_from(people)) if people else None
    teams = draw(st.lists(st.builds(TeamOfSession, id=numbers, name=tricky, primary=st.booleans()), max_size=3))
    return SessionReport(
        id=draw(numbers),
        lsid=draw(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)),
        session_type="support",
        status="ended" if ended else "in_session",
        start_time=start,
        end_time=start + timedelta(seconds=draw(st.integers(0, 10**6))) if ended else None,
        public_site_id=draw(numbers),
        public_site_name=draw(tricky),
        jumpoint_id=draw(st.none() | numbers),
        jumpoint_name=draw(tricky),
        external_key=draw(tricky),
        file_transfer_count=draw(numbers),
        last_owner_user_id=owner.user_id if owner else None,
        last_owner_gsnumber=owner.gsnumber if owner else draw(st.none() | numbers),
        primary_team_id=None,
        customer_name=draw(tricky),
        customer_company=draw(tricky),
        customer_company_code=draw(tricky),
        customer_issue=draw(tricky),
        customer_details=draw(tricky),
        participants=people,
        teams=teams,
        attributes=draw(st.dictionaries(safe_code, tricky, max_size=3)),
        surveys=draw(
            st.lists(
                st.builds(
                    SurveyAnswers,
                    id=numbers,
                    survey=st.sampled_from(["customer", "representative"]),
                    gsnumber=numbers,
                    name=tricky,
                    user_id=st.none() | numbers,
                    answers=st.dictionaries(st.sampled_from(["1", "2", "7"]), st.lists(tricky, max_size=2)),
                ),
                max_size=3,
            )
        ),
        recordings=draw(
            st.lists(
                st.builds(
                    RecordingOfSession,
                    kind=st.sampled_from(["screen", "command_shell", "presentation"]),
                    instance=st.integers(0, 3),
                    finished=st.booleans(),
                ),
                max_size=3,
            )
        ),
        events=draw(st.lists(events, max_size=5)),
    )


questions = st.lists(
    st.builds(Question, id=st.sampled_from([1, 2, 3, 7]), name=tricky, type=tricky, label=tricky, report_header=tricky),
    max_size=3,
)


@st.composite
def views(draw: st.DrawFn) -> render.View:
    return render.View(
        era=draw(st.sampled_from(list(Era))),
        zone=ZoneInfo(draw(st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]))),
        # A base URL with characters to escape takes the writer's slower path for links.
        links=DownloadLinks("s" * 64, draw(st.sampled_from(["https://support.example.com:8443", "https://a&b<c>\r"]))),
        recordings=draw(st.booleans()),
        now=NOW,
        questions={"customer": draw(questions), "representative": draw(questions)},
        attribute_names=draw(st.dictionaries(safe_code, tricky, max_size=3)),
    )


def reference(view: render.View, session: SessionReport) -> bytes:
    element = render.session_element(view, session)
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False, pretty_print=True)


@EXAMPLES
@given(views(), sessions())
def test_the_writer_writes_what_lxml_writes(view: render.View, session: SessionReport) -> None:
    assert session_xml.session_text(view, session) == reference(view, session)


@EXAMPLES
@given(views(), sessions())
def test_frozen_parts_stand_in_for_participants_and_events(view: render.View, session: SessionReport) -> None:
    whole = session_xml.session_text(view, session)
    frozen = FrozenParts.unpacked(session_xml.frozen_parts(session).packed())
    assert frozen.team_ids == [team.id for team in session.teams]
    # A frozen session's participants and events are not read at all; its attributes and
    # surveys come from the frozen copy (and its teams, named as they are now: kept here).
    session.events, session.participants = [], []
    session.attributes, session.surveys = frozen.attributes, frozen.surveys
    session.frozen = frozen
    assert session_xml.session_text(view, session) == whole


def test_a_frozen_copy_keeps_records_utf8_cannot_carry_as_the_report_writes_them() -> None:
    view = render.View(
        era=Era.LATER,
        zone=ZoneInfo("UTC"),
        links=DownloadLinks("s" * 64, "https://support.example.com"),
        recordings=False,
        now=NOW,
        questions={"customer": [Question(1, "q", "text", "Q?", "Q")]},
        attribute_names={"code": "Code"},
    )
    session = SessionReport(
        1, "f" * 32, "support", "ended", NOW, NOW + timedelta(seconds=5), 1, "Site", None, "", "", 0,
        None, None, None, "Customer", "", "", "", "",
        attributes={"code": "half \ud800 a pair"},
        surveys=[SurveyAnswers(1, "customer", 2, "Customer", None, {"1": ["lone \udfff"]})],
    )  # fmt: skip
    whole = session_xml.session_text(view, session)
    assert whole.count("\ufffd".encode()) == 2
    frozen = FrozenParts.unpacked(session_xml.frozen_parts(session).packed())
    session.attributes, session.surveys, session.frozen = frozen.attributes, frozen.surveys, frozen
    assert session_xml.session_text(view, session) == whole
