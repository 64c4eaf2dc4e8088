"""What a seal holds, and when it may stand in for a session's rows (see
`lifeline.api.reporting.sealing`, which writes seals)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import lz4.block
from sqlalchemy import and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from lifeline.reports.models import SealedSessionDetails
from lifeline.reports.records import SurveyAnswers
from lifeline.sessions.models import SessionEvent

# Bump whenever what a seal holds changes, or `session_xml` writes its parts differently:
# older seals then stop being used at once and are sealed again in the background.
FORMAT = 3


def current_seal(session_id: Any) -> ColumnElement[bytes | None]:
    """The session's sealed details if they are current, else NULL (the query must outer-join
    `SealedSessionDetails` on the session)."""
    last_event = select(func.max(SessionEvent.id)).where(SessionEvent.session_id == session_id).scalar_subquery()
    return case(
        (
            and_(SealedSessionDetails.format == FORMAT, SealedSessionDetails.through_event_id == last_event),
            SealedSessionDetails.xml,
        ),
        else_=None,
    )


SEPARATOR = b"\0"  # a byte neither XML nor UTF-8 text nor JSON holds, so never inside a part


@dataclass(frozen=True, slots=True)
class Sealed:
    """What can no longer change of an ended session: participants and customer details
    are frozen when it ends, its teams, custom attributes and exit surveys change only with
    an event in its log (which the seal's check notices). The XML parts are SupportSession's
    (`api.reporting.session_xml`), in UTF-8, copied out as they are; the rest are records
    written against what is configured at answer time (team names, survey questions,
    attribute names)."""

    people: bytes  # primary_customer and primary_rep
    lists: bytes  # customer_list and rep_list
    details: bytes  # session_details
    team_ids: list[int]  # the teams it belonged to, in order
    attributes: dict[str, str]
    surveys: list[SurveyAnswers]

    def packed(self) -> bytes:
        records = json.dumps([self.team_ids, self.attributes, [list(s) for s in self.surveys]])
        # LZ4 rather than zlib: seals are half again as large, but a report unpacks one per
        # session, and LZ4 unpacks them in a quarter of the time (5.6 µs against 22 µs a
        # session of 7 KB, measured on the bench's history).
        parts = SEPARATOR.join((self.people, self.lists, self.details, records.encode("ascii")))
        packed: bytes = lz4.block.compress(parts)
        return packed

    @classmethod
    def unpacked(cls, packed: bytes) -> Sealed:
        people, lists, details, records = lz4.block.decompress(packed).split(SEPARATOR)
        team_ids, attributes, surveys = json.loads(records)
        return cls(people, lists, details, team_ids, attributes, [SurveyAnswers(*s) for s in surveys])
