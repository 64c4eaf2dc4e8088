"""Small builders for engine tests: users, teams and connections made through the actions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lifeline.directory import actions as directory
from lifeline.directory.models import Team, User
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientInfo, ClientKind
from lifeline.sessions import actions as engine
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queues import Queue

NODE = "node-under-test"


def rep(session: Session, username: str, *, team: Team | None = None, **perms: bool) -> User:
    user = directory.add_user(
        session,
        username,
        f"{username}-password",
        directory.UserChanges(display_name=username.title(), perm_support=True, **perms),  # type: ignore[arg-type]
    )
    if team is not None:
        directory.add_team_member(session, team, user)
    return user


def logged_in(session: Session, user: User) -> ClientConnection:
    presence.register_node(session, NODE, "tests")
    return presence.rep_log_in(session, user, node_id=NODE, info=ClientInfo(hostname=f"{user.username}-pc", os="Linux"))


def customer_session(session: Session, queue: Queue, *, name: str = "Pat", external_key: str = "") -> SupportSession:
    presence.register_node(session, NODE, "tests")
    customer = presence.connect(
        session, node_id=NODE, kind=ClientKind.SUPPORT_CUSTOMER, info=ClientInfo(hostname="customer-pc", os="Windows")
    )
    return engine.start_session(
        session,
        queue=queue,
        public_site_id=1,
        customer_connection=customer,
        details=engine.CustomerDetails(name=name),
        start_method="session_key",
        external_key=external_key,
    )
