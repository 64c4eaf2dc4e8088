"""Queues a session can wait in, as the APIs name them: general, rep:ID, rep_username:NAME,
team:ID, embassy:ID and issue:CODE."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lifeline.directory.models import Issue, Team, TeamMember, User


class QueueKind(enum.StrEnum):
    GENERAL = "general"
    REP = "rep"
    TEAM = "team"
    EMBASSY = "embassy"


class QueueError(ValueError):
    """The queue named does not exist or cannot take sessions; the message says which."""


@dataclass(frozen=True)
class Queue:
    kind: QueueKind
    ref_id: int  # 0 for the general queue
    name: str  # the rep's display name, the team's name, or "General"
    issue_code: str = ""

    @property
    def team_id(self) -> int | None:
        return self.ref_id if self.kind in (QueueKind.TEAM, QueueKind.EMBASSY) else None

    @property
    def spec(self) -> str:
        return "general" if self.kind is QueueKind.GENERAL else f"{self.kind.value}:{self.ref_id}"


GENERAL = Queue(QueueKind.GENERAL, 0, "General")


def _positive_id(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) == 0:
        raise QueueError(f"{what} must be a positive integer ID")
    return int(text)


def resolve_queue(session: Session, spec: str) -> Queue:
    """Turn a queue_id parameter into a queue that exists, or raise QueueError."""
    if spec == "general":
        return GENERAL
    prefix, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise QueueError(
            "queue_id must be general, rep:ID, rep_username:USERNAME, team:ID, embassy:ID or issue:CODE_NAME"
        )
    if prefix == "rep":
        return _rep_queue(session.get(User, _positive_id(rest, "the rep ID")), rest)
    if prefix == "rep_username":
        matches = session.scalars(select(User).where(func.lower(User.username) == rest.lower())).all()
        if len(matches) != 1:
            raise QueueError(f"No single representative has the username {rest!r}")
        return _rep_queue(matches[0], rest)
    if prefix in ("team", "embassy"):
        team = session.get(Team, _positive_id(rest, f"the {prefix} ID"))
        if team is None or team.is_embassy != (prefix == "embassy"):
            what = "Embassy" if prefix == "embassy" else "support team"
            raise QueueError(f"No {what} has the ID {rest}")
        return Queue(QueueKind(prefix), team.id, team.name)
    if prefix == "issue":
        issue = session.scalars(select(Issue).where(Issue.code_name == rest)).first()
        if issue is None:
            raise QueueError(f"No issue has the code name {rest!r}")
        return issue_queue(issue)
    raise QueueError("queue_id must be general, rep:ID, rep_username:USERNAME, team:ID, embassy:ID or issue:CODE_NAME")


def issue_queue(issue: Issue) -> Queue:
    team = issue.team
    kind = QueueKind.EMBASSY if team.is_embassy else QueueKind.TEAM
    return Queue(kind, team.id, team.name, issue_code=issue.code_name)


def rep_queue(user: User) -> Queue:
    return _rep_queue(user, str(user.id))


def _rep_queue(user: User | None, ref: str) -> Queue:
    if user is None:
        raise QueueError(f"No representative has the ID {ref}")
    if not user.enabled:
        raise QueueError(f"The representative {user.username!r} is disabled")
    if not user.perm_support:
        raise QueueError(f"The representative {user.username!r} is not allowed to provide remote support")
    return Queue(QueueKind.REP, user.id, user.display_name)


def queues_of(session: Session, user: User) -> list[Queue]:
    """The queues a representative sees and may take sessions from: their own, their teams'
    and embassies', and the general queue if they may take from it."""
    queues = [Queue(QueueKind.REP, user.id, user.display_name)]
    rows = session.execute(
        select(Team.id, Team.name, Team.is_embassy)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.user_id == user.id)
        .order_by(Team.id)
    ).all()
    queues += [
        Queue(QueueKind.EMBASSY if embassy else QueueKind.TEAM, team_id, name) for team_id, name, embassy in rows
    ]
    if user.perm_general_queue:
        queues.append(GENERAL)
    return queues
