"""Driving the session engine the way the consoles and clients will: a node of our own
that holds rep and customer connections, and sessions started through the engine."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lifeline.db.engine import Database
from lifeline.directory.actions import find_user
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientInfo, ClientKind
from lifeline.sessions import actions as engine
from lifeline.sessions import connections
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queries import session_by_lsid
from lifeline.sessions.queues import resolve_queue


@dataclass(frozen=True)
class Started:
    lsid: str
    customer_gsnumber: int


class ConsoleNode:
    """Plays an appliance node holding console and customer connections, heartbeating like one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.node_id = "test" + uuid.uuid4().hex[:28]
        self._stop = threading.Event()
        db.call(presence.register_node, self.node_id, "tests")
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(2.0):
            self.db.call(presence.register_node, self.node_id, "tests")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.db.call(connections.close_node, self.node_id)

    def log_in(self, username: str, *, hostname: str = "rep-laptop", showing: bool = True) -> int:
        """A rep logs into the console; returns the connection's gsnumber."""

        def work(session: Session) -> int:
            user = find_user(session, username)
            assert user is not None, username
            connection = presence.rep_log_in(
                session,
                user,
                node_id=self.node_id,
                info=ClientInfo(hostname=hostname, os="Linux", public_ip="192.0.2.10", private_ip="10.0.0.10"),
            )
            if not showing:
                presence.set_showing_on_rep_list(session, connection, False)
            return connection.gsnumber

        return self.db.call(work)

    def log_out(self, gsnumber: int) -> None:
        def work(session: Session) -> None:
            connection = session.get(ClientConnection, gsnumber)
            assert connection is not None
            connections.disconnect(session, connection)

        self.db.call(work)

    def start_session(
        self,
        queue_spec: str = "general",
        *,
        customer_name: str = "Pat Customer",
        external_key: str = "",
        site_id: int = 1,
    ) -> Started:
        def work(session: Session) -> Started:
            queue = resolve_queue(session, queue_spec)
            customer = presence.connect(
                session,
                node_id=self.node_id,
                kind=ClientKind.SUPPORT_CUSTOMER,
                info=ClientInfo(
                    hostname="customer-pc", os="Windows 11", public_ip="198.51.100.7", private_ip="10.1.1.7"
                ),
            )
            support_session = engine.start_session(
                session,
                queue=queue,
                public_site_id=site_id,
                customer_connection=customer,
                details=engine.CustomerDetails(name=customer_name),
                start_method="session_key",
                external_key=external_key,
            )
            return Started(support_session.lsid, customer.gsnumber)

        return self.db.call(work)

    def take(self, lsid: str, gsnumber: int) -> None:
        def work(session: Session) -> None:
            support_session = session_by_lsid(session, lsid)
            connection = session.get(ClientConnection, gsnumber)
            assert support_session is not None and connection is not None and connection.user_id is not None
            from lifeline.directory.models import User

            user = session.get(User, connection.user_id)
            assert user is not None
            engine.take_session(session, support_session, connection, user)

        self.db.call(work)

    def session(self, lsid: str) -> SupportSession:
        found = self.db.call(session_by_lsid, lsid)
        assert found is not None
        return found
