"""What a frozen copy holds, and when it may stand in for a session's rows (see
`lifeline.reports.freezing`, which writes them)."""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

import lz4.block
import orjson
from sqlalchemy import and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from lifeline.reports.answers import SurveyAnswers
from lifeline.reports.models import FrozenSessionDetails
from lifeline.sessions.models import SessionEvent
from lifeline.text import xml_safe

# Bump whenever what a frozen copy holds changes, or `session_xml` writes its parts differently:
# older frozen copies then stop being used at once and are frozen again in the background.
# 5: event times on SQLite floored to the second (`reports.sql.unix_seconds`), as everywhere else.
FORMAT = 5


def current_frozen(session_id: Any) -> ColumnElement[bytes | None]:
    """The session's frozen details if they are current, else NULL (the query must outer-join
    `FrozenSessionDetails` on the session)."""
    last_event = select(func.max(SessionEvent.id)).where(SessionEvent.session_id == session_id).scalar_subquery()
    return case(
        (
            and_(FrozenSessionDetails.format == FORMAT, FrozenSessionDetails.through_event_id == last_event),
            FrozenSessionDetails.xml,
        ),
        else_=None,
    )


# A frozen copy: the length of its records, the records (JSON), then its XML parts compressed,
# each part's length first.
_RECORDS = struct.Struct("<I")
_PARTS = struct.Struct("<III")


class XmlParts(NamedTuple):
    """A frozen session's part of SupportSession, in UTF-8 (views into the unpacked frozen copy:
    a report copies each once, into its output)."""

    people: bytes | memoryview  # primary_customer and primary_rep
    lists: bytes | memoryview  # customer_list and rep_list
    details: bytes | memoryview  # session_details


class FrozenParts(NamedTuple):
    """What can no longer change of an ended session: participants and customer details
    are frozen when it ends, its teams, custom attributes and exit surveys change only with
    an event in its log (which the frozen copy's check notices). The XML parts are SupportSession's
    (`api.reporting.session_xml`), copied out as they are; the rest are records written
    against what is configured at answer time (team names, survey questions, attribute
    names). A report reads the records of a whole chunk of sessions first (for their team
    names) and unpacks each session's XML only as it writes it, while it is in the cache."""

    team_ids: list[int]  # the teams it belonged to, in order
    attributes: dict[str, str]
    surveys: list[SurveyAnswers]
    packed_xml: bytes | memoryview

    @classmethod
    def of(
        cls, xml: XmlParts, team_ids: list[int], attributes: dict[str, str], surveys: list[SurveyAnswers]
    ) -> FrozenParts:
        lengths = _PARTS.pack(*(len(part) for part in xml))
        # LZ4 rather than zlib: frozen copies are half again as large, but a report unpacks one per
        # session, and LZ4 unpacks them in a quarter of the time (5.6 µs against 22 µs a
        # session of 7 KB, measured on the bench's history).
        return cls(team_ids, attributes, surveys, lz4.block.compress(b"".join((lengths, *xml))))

    def packed(self) -> bytes:
        records = [self.team_ids, self.attributes, [list(s) for s in self.surveys]]
        try:
            encoded = orjson.dumps(records)
        except orjson.JSONEncodeError:  # a lone surrogate: kept as the report writes it, U+FFFD
            encoded = orjson.dumps(_xml_safe(records))
        return b"".join((_RECORDS.pack(len(encoded)), encoded, self.packed_xml))

    @classmethod
    def unpacked(cls, packed: bytes) -> FrozenParts:
        """The records; the XML stays packed until `xml`."""
        (length,) = _RECORDS.unpack_from(packed)
        end = _RECORDS.size + length
        view = memoryview(packed)
        # orjson: a report decodes one frozen copy's records per session, in a quarter of json's time.
        team_ids, attributes, surveys = orjson.loads(view[_RECORDS.size : end])
        return cls(team_ids, attributes, [SurveyAnswers(*s) for s in surveys], view[end:])

    def xml(self) -> XmlParts:
        whole = memoryview(lz4.block.decompress(self.packed_xml))
        people, lists, details = _PARTS.unpack_from(whole)
        at = _PARTS.size
        return XmlParts(
            whole[at : at + people],
            whole[at + people : at + people + lists],
            whole[at + people + lists : at + people + lists + details],
        )


def _xml_safe(value: Any) -> Any:
    """Records with their text as the report writes it (`xml_safe`, as `xml_text` applies)."""
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    if isinstance(value, dict):
        return {_xml_safe(k): _xml_safe(v) for k, v in value.items()}
    return value
