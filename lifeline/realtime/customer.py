"""The customer client's socket: attach with the token from /api/start_session, wait in the
queue, chat, end the session, answer the exit survey."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from typing import Any

from lifeline_protocol import VERSION, CloseCode, decode_customer_hello, decode_customer_request, encode
from lifeline_protocol import customer as wire
from lifeline_protocol.common import HELLO_TIMEOUT, Ack, Gone, answer_values, event_records
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket

from lifeline.presence import actions as presence
from lifeline.presence.models import ClientConnection, ClientKind, ConnectionState
from lifeline.presence.tokens import resume_token_sha256
from lifeline.realtime.computer_events import ComputerWanted, ConsentFromPage
from lifeline.realtime.computers import NOT_CONNECTED, Computers
from lifeline.realtime.follow import appliances
from lifeline.realtime.hub import CUSTOMER_EVENTS, CustomerPeer, Hub, customer_view
from lifeline.realtime.screen_events import PageAttached
from lifeline.realtime.screens import Screens
from lifeline.realtime.socket import (
    DONE,
    Done,
    ProtocolError,
    TypingThrottle,
    ack,
    receive_message,
    refuse_hello,
    run_peer,
    write_chat,
)
from lifeline.runtime import Runtime
from lifeline.sessions import actions as engine
from lifeline.sessions import connections
from lifeline.sessions.events import Actor, ActorType
from lifeline.sessions.live import SomeoneTyping, event_payload, file_ids_by_event, mark_changed, session_state
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queries import events_after
from lifeline.surveys import actions as surveys
from lifeline.surveys.models import SurveyResponse

log = logging.getLogger("lifeline.realtime")


@dataclass(frozen=True)
class CustomerAttached:
    gsnumber: int
    lsid: str
    state: dict[str, Any]
    history: list[dict[str, Any]]
    survey: list[dict[str, Any]]
    survey_done: bool


def attach(session: Session, token: str, node_id: str, after_id: int) -> CustomerAttached | None:
    connection = presence.adopt(session, resume_token_sha256(token), node_id=node_id, kind=ClientKind.SUPPORT_CUSTOMER)
    if connection is None or connection.session_id is None:
        return None
    support_session = session.get(SupportSession, connection.session_id)
    if support_session is None:
        return None
    if connection.away_since is not None:
        connection.move_to(ConnectionState.CONNECTED)  # back: the reps see the customer connected again
        mark_changed(session, support_session)
    events = [e for e in events_after(session, support_session, after_id) if e.event_type in CUSTOMER_EVENTS]
    files = file_ids_by_event(session, [e.id for e in events])
    done = (
        session.scalars(
            select(SurveyResponse.id).where(
                SurveyResponse.session_id == support_session.id,
                SurveyResponse.submitted_by_gsnumber == connection.gsnumber,
            )
        ).first()
        is not None
    )
    return CustomerAttached(
        gsnumber=connection.gsnumber,
        lsid=support_session.lsid,
        state=session_state(session, support_session),
        history=[event_payload(e, files.get(e.id)) for e in events],
        survey=surveys.survey_form(session, surveys.SurveyKind.CUSTOMER),
        survey_done=done,
    )


def went_away(session: Session, gsnumber: int, node_id: str) -> None:
    """The customer's socket closed: they are reconnecting until they come back or are gone."""
    # Locked, so a reload adopting it on another process either comes first (and is seen
    # here) or waits for this and clears it: unlocked, each could miss the other's write.
    connection = session.get(ClientConnection, gsnumber, with_for_update=True)
    if connection is None or connection.node_id != node_id or connection.disconnected_at is not None:
        return  # another process has it now, or it is over
    if connection.away_since is not None or connection.session_id is None:
        return
    connection.move_to(ConnectionState.RECONNECTING)
    support_session = session.get(SupportSession, connection.session_id)
    if support_session is not None and support_session.status != engine.SessionStatus.ENDED.value:
        mark_changed(session, support_session)


class CustomerSocket:
    def __init__(self, runtime: Runtime, hub: Hub, computers: Computers, screens: Screens) -> None:
        self.runtime = runtime
        self.hub = hub
        self.computers = computers
        self.screens = screens

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            hello = await receive_message(websocket, decode_customer_hello, timeout=HELLO_TIMEOUT)
        except Exception:
            await refuse_hello(websocket)
            return
        after = max(hello.last_event_id or 0, 0)
        peer = CustomerPeer(0, "")
        self.hub.begin_attach(peer)
        attached = await self.runtime.db.write(attach, hello.token, self.runtime.node_id, after)
        if attached is None:
            self.hub.remove(peer, detached=False)
            await websocket.send_text(encode(Gone(error="This support session is over.")).decode())
            await websocket.close(CloseCode.GONE)
            return
        peer.gsnumber, peer.lsid = attached.gsnumber, attached.lsid
        peer.last_event_id[attached.lsid] = max([e["id"] for e in attached.history], default=after)
        settings = await self.runtime.settings()
        peer.send(
            wire.Welcome(
                gsnumber=attached.gsnumber,
                company=settings["company_name"],
                session=customer_view(attached.state),
                position=self.hub.position_of(attached.lsid),
                history=event_records(attached.history),
                survey=attached.survey,
                survey_done=attached.survey_done,
                server_time=time.time(),
                appliances=appliances(self.runtime),
                version=VERSION,
            )
        )
        peer.position = self.hub.position_of(attached.lsid)
        self.hub.add_customer(peer, attached.state.get("version", 0))
        peer.release()
        peer.send(self.computers.customer_view(attached.lsid))
        self.runtime.bus.publish_local(PageAttached(attached.lsid))
        if attached.lsid not in self.computers.states:
            self.runtime.bus.publish_local(ComputerWanted(attached.lsid))
        actions = CustomerActions(self.runtime, peer, self.computers, self.screens)
        outcome = "closed"
        try:
            frames = functools.partial(self.screens.shares.page_frame, peer)
            outcome = await run_peer(websocket, peer, decode_customer_request, actions.handle, frames=frames)
        finally:
            self.screens.shares.page_unshare(peer)
            self.hub.remove(peer, detached=outcome != "done", grace=settings["customer_reconnect_seconds"])
        if outcome != "done" and not peer.dropped:
            try:
                await self.runtime.db.write(went_away, peer.gsnumber, self.runtime.node_id)
            except Exception as error:  # stopping: the dead-node sweep ends what nobody comes back for
                log.warning("could not mark customer %d as reconnecting: %s", peer.gsnumber, error)


class CustomerActions:
    def __init__(self, runtime: Runtime, peer: CustomerPeer, computers: Computers, screens: Screens) -> None:
        self.runtime = runtime
        self.peer = peer
        self.computers = computers
        self.screens = screens
        self.typing_throttle = TypingThrottle()

    async def handle(self, request: wire.CustomerRequest) -> Ack | Done | None:
        if isinstance(request, wire.Chat):
            return await write_chat(self.runtime, self.peer.lsid, self.peer.gsnumber, request)
        if isinstance(request, wire.StartTyping):  # the reps in the session see it (no answer)
            if self.typing_throttle.due(self.peer.lsid):
                self.runtime.bus.publish_local(SomeoneTyping(self.peer.lsid, self.peer.gsnumber, "customer", ""))
            return None
        if isinstance(request, wire.End):
            return await self._run(
                request, lambda s, ss, c: engine.end_session(s, ss, _me(s, ss, c), reason="ended by customer")
            )
        if isinstance(request, wire.Survey):
            answers = answer_values(request.answers)
            return await self._run(
                request,
                lambda s, ss, c: surveys.submit_survey(s, ss, surveys.SurveyKind.CUSTOMER, _me(s, ss, c), answers).id,
            )
        if isinstance(request, wire.Consent):
            # To their Lifeline client (on whichever process holds it), which enforces it.
            if self.peer.lsid not in self.computers.states:
                raise ProtocolError(NOT_CONNECTED)
            self.runtime.bus.publish_local(ConsentFromPage(self.peer.lsid, request.capability, request.allowed))
            return ack(request)
        if isinstance(request, wire.ScreenShare):
            return ack(request, await self.screens.shares.page_share(self.peer, request))
        if isinstance(request, wire.ScreenUnshare):
            self.screens.shares.page_unshare(self.peer)
            return ack(request)
        if isinstance(request, wire.Bye):
            await self.runtime.db.write(connections.disconnect_by_gsnumber, self.peer.gsnumber)
            return DONE
        return None  # ping: answered by the socket itself

    async def _run(self, request: wire.End | wire.Survey, work: Any) -> Ack:
        gsnumber = self.peer.gsnumber

        def run(session: Session) -> Any:
            connection = session.get(ClientConnection, gsnumber)
            if connection is None or connection.disconnected_at is not None or connection.session_id is None:
                raise ProtocolError("this support session is over")
            support_session = session.get(SupportSession, connection.session_id)
            assert support_session is not None
            try:
                return work(session, support_session, connection)
            except (engine.SessionError, surveys.SurveyError) as error:
                raise ProtocolError(str(error)) from None

        return ack(request, await self.runtime.db.write(run))


def _me(session: Session, support_session: SupportSession, connection: ClientConnection) -> Actor:
    actor = engine.customer_actor(session, support_session)
    if actor.gsnumber == connection.gsnumber:
        return actor
    return Actor(ActorType.CUSTOMER, connection.gsnumber, support_session.customer_name or "Customer")
