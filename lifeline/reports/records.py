"""Typed records the report queries return: a session with what was logged about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from lifeline.reports.answers import SurveyAnswers
from lifeline.reports.frozen import FrozenParts


class Event(NamedTuple):
    """One entry of a session's event log (many per session, hence a light tuple)."""

    session_id: int
    id: int
    event_type: str
    timestamp: int  # UNIX seconds
    performed_by_type: str
    performed_by_gsnumber: int
    performed_by_name: str
    destination_type: str | None
    destination_gsnumber: int | None
    destination_name: str
    body: str | None
    filename: str | None
    filesize: int | None
    data: list[list[str]]
    files: list[dict[str, Any]]
    system_information: list[dict[str, Any]] | None


@dataclass(slots=True)
class Participant:
    """A customer or representative connection that took part in a session."""

    gsnumber: int
    role: str  # customer or representative
    user_id: int | None
    username: str
    display_name: str
    display_number: str
    public_ip: str
    private_ip: str
    hostname: str
    os: str
    session_owner: bool
    primary_cust: bool
    embassy: bool
    invited: bool
    seconds_involved: int


@dataclass(frozen=True, slots=True)
class TeamOfSession:
    id: int
    name: str  # as the team is named now
    primary: bool  # the last team the session belonged to


@dataclass(frozen=True, slots=True)
class RecordingOfSession:
    kind: str  # screen, command_shell or presentation
    instance: int
    finished: bool


@dataclass(frozen=True, slots=True)
class Question:
    """An exit survey question as it is configured now."""

    id: int
    name: str
    type: str
    label: str
    report_header: str


@dataclass(slots=True)
class SessionReport:
    """A session and, depending on the report, what was logged about it."""

    id: int  # the lseq
    lsid: str
    session_type: str
    status: str
    start_time: datetime
    end_time: datetime | None
    public_site_id: int
    public_site_name: str
    jumpoint_id: int | None
    jumpoint_name: str
    external_key: str
    file_transfer_count: int
    last_owner_user_id: int | None
    last_owner_gsnumber: int | None
    primary_team_id: int | None
    customer_name: str
    customer_company: str
    customer_company_code: str
    customer_issue: str
    customer_details: str
    # Its frozen copy (packed), when current and the report asked for events; `frozen` once
    # unpacked. A frozen session's participants, events, teams, attributes and surveys are
    # not read: the frozen copy holds them (`lifeline.reports.frozen`).
    frozen_details: bytes | None = None
    frozen: FrozenParts | None = None
    participants: list[Participant] = field(default_factory=list)
    teams: list[TeamOfSession] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    surveys: list[SurveyAnswers] = field(default_factory=list)
    recordings: list[RecordingOfSession] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.end_time is not None

    def duration_seconds(self, now: datetime) -> int:
        return max(0, int(((self.end_time or now) - self.start_time).total_seconds()))

    @property
    def customers(self) -> list[Participant]:
        return [p for p in self.participants if p.role == "customer"]

    @property
    def reps(self) -> list[Participant]:
        return [p for p in self.participants if p.role == "representative"]

    @property
    def primary_customer(self) -> Participant | None:
        return next((p for p in self.participants if p.primary_cust), None)

    @property
    def primary_rep(self) -> Participant | None:
        """The last representative to own the session (absent if none ever did)."""
        if self.last_owner_gsnumber is None:
            return None
        return next(
            (p for p in self.reps if p.gsnumber == self.last_owner_gsnumber and p.user_id == self.last_owner_user_id),
            None,
        )

    @property
    def primary_team(self) -> TeamOfSession | None:
        return next((t for t in self.teams if t.primary), None)

    def recording(self, kind: str, instance: int = 0) -> RecordingOfSession | None:
        return next((r for r in self.recordings if r.kind == kind and r.instance == instance), None)

    @property
    def has_recording(self) -> bool:
        return self.recording("screen") is not None
