"""A presentation attendee's socket: join with the presentation's key and a name, chat with
the presenter and the other attendees, watch the presenter's screen (realtime.presenter_screen),
learn who attends and when it ends.

An attendee's connection lasts as long as its socket: a reload joins again (a new
gsnumber). Chat lines and the end come as the presentation's events (through the hub);
who attends comes from the presentation's state.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import msgspec
from lifeline_protocol import VERSION, CloseCode, decode_attendee_hello, decode_attendee_request, encode, screen
from lifeline_protocol import attendee as wire
from lifeline_protocol.common import HELLO_TIMEOUT, Ack, Gone, event_records
from sqlalchemy.orm import Session
from starlette.websockets import WebSocket

from lifeline.limits import FailureLimit
from lifeline.presence.models import ClientInfo
from lifeline.realtime.hub import Hub, Peer
from lifeline.realtime.screen_events import ScreenAnnounce, ScreenChanged
from lifeline.realtime.screens import Screens
from lifeline.realtime.socket import DONE, Done, ProtocolError, ack, receive_message, refuse_hello, run_peer, write_chat
from lifeline.runtime import Runtime
from lifeline.sessions import connections, presenting
from lifeline.sessions.keys import KeyState
from lifeline.sessions.live import SessionState, event_payload, session_state
from lifeline.sessions.models import PRESENTATION, SessionError
from lifeline.sessions.queries import events_after, session_by_lsid

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
    def __init__(self, runtime: Runtime, hub: Hub, screens: Screens) -> None:
        self.runtime = runtime
        self.hub = hub
        self.screens = screens
        self.by_lsid: dict[str, set[AttendeePeer]] = defaultdict(set)
        self.streams: dict[str, int] = {}  # lsid -> the stream of the presenter's screen its attendees here watch
        # Keys are seven digits: an address that keeps naming unknown ones is refused a while.
        self.guesses = FailureLimit(20, 600)
        # Presentations' states seen so far: one that arrives while an attendee joins, before
        # its socket is listed here, would be missed (see serve).
        self.states_seen = 0
        self._unsubscribe = runtime.bus.subscribe(self.on_event)
        hub.on_stop.append(self.stop)
        hub.on_replaced.append(self.close_all)

    def stop(self) -> None:
        self._unsubscribe()
        self.close_all()

    def close_all(self) -> None:
        for peers in list(self.by_lsid.values()):
            for peer in list(peers):
                peer.close(CloseCode.RESTART)

    def on_event(self, event: Any) -> None:
        """A presentation changed (someone came or went, it ended), or its screen did: its
        attendees here are told."""
        if isinstance(event, ScreenChanged) and event.lsid in self.by_lsid:
            self._screen(event.lsid, event.state)
            return
        if not isinstance(event, SessionState) or event.state.get("session_type") != PRESENTATION:
            return
        self.states_seen += 1
        if event.lsid not in self.by_lsid:
            return
        message = wire.State(presentation=presentation_view(event.state))
        for peer in list(self.by_lsid.get(event.lsid, ())):
            peer.send(message)
            if event.state["status"] == "ended":
                peer.close(CloseCode.GONE, "the presentation is over")

    def _screen(self, lsid: str, state: dict[str, Any]) -> None:
        """The presenter's screen changed: every attendee here watches the new stream."""
        share = state["share"]
        stream = share["stream"] if share else None
        old = self.streams.pop(lsid, None)
        if stream is not None:
            self.streams[lsid] = stream
        message = wire.ScreenShown(share=msgspec.convert(share, screen.Share) if share else None)
        for peer in self.by_lsid.get(lsid, ()):
            if old is not None and old != stream:
                self.hub.streams.unwatch(peer, old)
            peer.send(message)  # before the frames: the page learns the picture's size first
            if stream is not None:
                self.hub.streams.watch(peer, stream)

    def _show_screen(self, peer: AttendeePeer) -> None:
        """A new attendee sees the screen shown now (the holder says it again if this process has not heard)."""
        state = self.screens.views.get(peer.lsid)
        if state is None:
            self.runtime.bus.publish_local(ScreenAnnounce(peer.lsid))
            return
        share = state["share"]
        self.streams[peer.lsid] = share["stream"]
        peer.send(wire.ScreenShown(share=msgspec.convert(share, screen.Share)))
        self.hub.streams.watch(peer, share["stream"])

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        address = websocket.client.host if websocket.client else ""
        try:
            hello = await receive_message(websocket, decode_attendee_hello, timeout=HELLO_TIMEOUT)
        except Exception:
            await refuse_hello(websocket)
            return
        if self.guesses.blocked(address):
            await self._refuse(websocket, "Too many keys were tried from your network. Wait a few minutes.")
            return
        info = ClientInfo(
            hostname="browser",
            platform="web",
            os=websocket.headers.get("user-agent", "")[:255],
            public_ip=address,
            timezone_offset=hello.timezone_offset,
        )
        settings = await self.runtime.settings()
        peer = AttendeePeer(0, "")
        self.hub.begin_attach(peer)
        seen = self.states_seen
        joined = await self.runtime.db.write(join, hello.key, hello.name, info, self.runtime.node_id)
        if isinstance(joined, str):
            self.hub.remove(peer, detached=False)
            if joined == NOT_FOUND:
                self.guesses.failed(address)
            await self._refuse(websocket, joined)
            return
        peer.gsnumber, peer.lsid = joined.gsnumber, joined.state["lsid"]
        peer.last_event_id[peer.lsid] = max([e["id"] for e in joined.history], default=0)
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
        self._show_screen(peer)
        if self.states_seen > seen + 1:  # besides its own joining, something changed meanwhile
            await self._send_state(peer)
        try:
            actions = AttendeeActions(self.runtime, peer, self)
            await run_peer(websocket, peer, decode_attendee_request, actions.handle)
        finally:
            self.hub.remove(peer, detached=False)
            peers = self.by_lsid.get(peer.lsid)
            if peers is not None:
                peers.discard(peer)
                if not peers:
                    del self.by_lsid[peer.lsid]
                    self.streams.pop(peer.lsid, None)
            if not peer.dropped:
                await self.runtime.db.write(connections.disconnect_by_gsnumber, peer.gsnumber)

    async def _send_state(self, peer: AttendeePeer) -> None:
        """The presentation as it is now, read afresh."""

        def read(session: Session) -> dict[str, Any] | None:
            presentation = session_by_lsid(session, peer.lsid)
            return session_state(session, presentation) if presentation is not None else None

        state = await self.runtime.db.read(read)
        if state is not None:
            peer.send(wire.State(presentation=presentation_view(state)))

    async def _refuse(self, websocket: WebSocket, why: str) -> None:
        await websocket.send_text(encode(Gone(error=why)).decode())
        await websocket.close(CloseCode.GONE)


class AttendeeActions:
    def __init__(self, runtime: Runtime, peer: AttendeePeer, sockets: AttendeeSocket) -> None:
        self.runtime = runtime
        self.peer = peer
        self.sockets = sockets

    async def handle(self, request: wire.AttendeeRequest) -> Ack | Done | None:
        if isinstance(request, wire.Chat):
            return await write_chat(self.runtime, self.peer.lsid, self.peer.gsnumber, request)
        if isinstance(request, wire.KeyFrame):
            # Watching anew starts at the next key frame, which the presenter is asked for.
            stream = self.sockets.streams.get(self.peer.lsid)
            if stream is None:
                raise ProtocolError("The presenter is not showing their screen")
            self.sockets.hub.streams.unwatch(self.peer, stream)
            self.sockets.hub.streams.watch(self.peer, stream)
            return ack(request)
        if isinstance(request, wire.Bye):
            return DONE
        return None  # ping: answered by the socket itself
