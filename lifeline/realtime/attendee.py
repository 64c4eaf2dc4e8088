"""A presentation attendee's socket: join with the presentation's key and a name, chat with
the presenter and the other attendees, learn who attends and when it ends.

An attendee's connection lasts as long as its socket: a reload joins again (a new
gsnumber). Chat lines and the end come as the presentation's events (through the hub);
who attends comes from the presentation's state.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from lifeline_protocol import VERSION, CloseCode, decode_attendee_hello, decode_attendee_request, encode
from lifeline_protocol import attendee as wire
from lifeline_protocol.common import HELLO_TIMEOUT, Ack, Gone, event_records
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket

from lifeline.limits import FailureLimit
from lifeline.presence.models import ClientInfo
from lifeline.realtime.hub import Hub, Peer
from lifeline.realtime.socket import DONE, Done, ProtocolError, ack, receive_message, run_peer
from lifeline.runtime import Runtime
from lifeline.sessions import activity, connections, presenting
from lifeline.sessions.keys import KeyState
from lifeline.sessions.live import SessionState, event_payload, session_state
from lifeline.sessions.models import SessionError
from lifeline.sessions.queries import events_after

# What an attendee sees of the presentation's log.
ATTENDEE_EVENTS = frozenset({"Chat Message", "Session End"})
NOT_FOUND = "There is no presentation with that key. Check it, or ask the presenter for the link."
OVER = "This presentation is over."


class AttendeePeer(Peer):
    def __init__(self, gsnumber: int, lsid: str) -> None:
        super().__init__(gsnumber)
        self.lsid = lsid

    def wants(self, event: dict[str, Any]) -> bool:
        return event["type"] in ATTENDEE_EVENTS


@dataclass(frozen=True)
class Joined:
    gsnumber: int
    name: str
    state: dict[str, Any]
    history: list[dict[str, Any]]


def presentation_view(state: dict[str, Any]) -> wire.PresentationView:
    """What an attendee is told: who presents, who attends, whether it is over."""
    presenter = next((m["name"] for m in state["members"] if m["gsnumber"] == state["owner"]), "")
    if not presenter and state["members"]:
        presenter = state["members"][0]["name"]
    attendees = state.get("presentation", {}).get("attendees", [])
    return wire.PresentationView(
        lsid=state["lsid"],
        status=state["status"],
        presenter=presenter,
        attendees=[wire.Attendee(gsnumber=a["gsnumber"], name=a["name"]) for a in attendees],
    )


def join(session: Session, key: str, name: str, info: ClientInfo, node_id: str) -> Joined | str:
    """The attendee joins, or the words why not."""
    state, presentation = presenting.presentation_for_key(session, key)
    if presentation is None:
        return OVER if state is KeyState.USED else NOT_FOUND
    if state is not KeyState.USABLE:
        return OVER
    try:
        connection = presenting.attend(session, presentation, name=name, info=info, node_id=node_id)
    except SessionError as error:
        return str(error)
    events = [e for e in events_after(session, presentation, 0) if e.event_type in ATTENDEE_EVENTS]
    session.flush()
    return Joined(
        gsnumber=connection.gsnumber,
        name=presenting.attendee_actor(session, connection.gsnumber).name,
        state=session_state(session, presentation),
        history=[event_payload(e) for e in events],
    )


class AttendeeSocket:
    def __init__(self, runtime: Runtime, hub: Hub) -> None:
        self.runtime = runtime
        self.hub = hub
        self.by_lsid: dict[str, set[AttendeePeer]] = defaultdict(set)
        # Keys are seven digits: an address that keeps naming unknown ones is refused a while.
        self.guesses = FailureLimit(20, 600)
        runtime.bus.subscribe(self.on_event)
        hub.on_stop.append(self.close_all)
        hub.on_replaced.append(self.close_all)

    def close_all(self) -> None:
        for peers in list(self.by_lsid.values()):
            for peer in list(peers):
                peer.close(CloseCode.RESTART)

    def on_event(self, event: Any) -> None:
        """A presentation changed (someone came or went, it ended): its attendees here are told."""
        if not isinstance(event, SessionState) or event.lsid not in self.by_lsid:
            return
        message = wire.State(presentation=presentation_view(event.state))
        for peer in list(self.by_lsid.get(event.lsid, ())):
            peer.send(message)
            if event.state["status"] == "ended":
                peer.close(CloseCode.GONE, "the presentation is over")

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        address = websocket.client.host if websocket.client else ""
        try:
            hello = await receive_message(websocket, decode_attendee_hello, timeout=HELLO_TIMEOUT)
        except Exception:
            await websocket.close(CloseCode.BAD_HELLO)
            return
        if self.guesses.blocked(address):
            await self._refuse(websocket, "Too many keys were tried from your network. Wait a few minutes.")
            return
        info = ClientInfo(
            hostname="browser",
            platform="web",
            os=websocket.headers.get("user-agent", "")[:255],
            public_ip=address,
        )
        peer = AttendeePeer(0, "")
        self.hub.begin_attach(peer)
        joined = await self.runtime.db.write(join, hello.key, hello.name, info, self.runtime.node_id)
        if isinstance(joined, str):
            self.hub.remove(peer, detached=False)
            if joined == NOT_FOUND:
                self.guesses.failed(address)
            await self._refuse(websocket, joined)
            return
        peer.gsnumber, peer.lsid = joined.gsnumber, joined.state["lsid"]
        peer.last_event_id[peer.lsid] = max([e["id"] for e in joined.history], default=0)
        settings = await self.runtime.settings()
        peer.send(
            wire.Welcome(
                gsnumber=joined.gsnumber,
                name=joined.name,
                company=settings["company_name"],
                presentation=presentation_view(joined.state),
                history=event_records(joined.history),
                server_time=time.time(),
                version=VERSION,
            )
        )
        self.by_lsid[peer.lsid].add(peer)
        self.hub.end_attach(peer, [peer.lsid])
        peer.release()
        try:
            await run_peer(websocket, peer, decode_attendee_request, AttendeeActions(self.runtime, peer).handle)
        finally:
            self.hub.remove(peer, detached=False)
            peers = self.by_lsid.get(peer.lsid)
            if peers is not None:
                peers.discard(peer)
                if not peers:
                    del self.by_lsid[peer.lsid]
            if not peer.dropped:
                await self.runtime.db.write(connections.disconnect_by_gsnumber, peer.gsnumber)

    async def _refuse(self, websocket: WebSocket, why: str) -> None:
        await websocket.send_text(encode(Gone(error=why)).decode())
        await websocket.close(CloseCode.GONE)


class AttendeeActions:
    def __init__(self, runtime: Runtime, peer: AttendeePeer) -> None:
        self.runtime = runtime
        self.peer = peer

    async def handle(self, request: wire.AttendeeRequest) -> Ack | Done | None:
        if isinstance(request, wire.Chat):
            try:
                event_id = await self.runtime.db.write(
                    activity.chat,
                    lsid=self.peer.lsid,
                    gsnumber=self.peer.gsnumber,
                    body=request.body,
                    client_ref=request.ref,
                )
            except SessionError as error:
                raise ProtocolError(str(error)) from None
            return ack(request, event_id)
        if isinstance(request, wire.Bye):
            return DONE
        return None  # ping: answered by the socket itself
