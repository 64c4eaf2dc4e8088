"""The presenter's screen: the console shares it (getDisplayMedia + VP8 in the browser) and
sends its SCREEN frames on /ws/console; every attendee watches it.

The share is one of realtime.screens' (held here, where the presenting console's socket
is): the same random stream ids, frame checks and caps, relay to viewers on any process,
and recording, which for a presentation is its presentation recording (served by
PresentationRecording). The attendees' sockets follow the share's state (`ScreenChanged`)
and watch its stream (realtime.attendee).
"""

from __future__ import annotations

from typing import Any

from lifeline_protocol import ProtocolError, binary, screen
from lifeline_protocol import console as console_wire
from sqlalchemy.orm import Session

from lifeline.realtime.hub import ConsolePeer, Hub
from lifeline.realtime.screen_events import ScreenChanged
from lifeline.realtime.screen_frames import Caps
from lifeline.realtime.screens import Screens
from lifeline.realtime.streams import KeyFrameWanted
from lifeline.runtime import Runtime
from lifeline.sessions.models import PRESENTATION
from lifeline.sessions.queries import session_by_lsid

NOT_PRESENTING = "You are not presenting that presentation"


def presentation_to_share(session: Session, lsid: str, gsnumber: int) -> int:
    """The presentation's id, when this console connection presents it now."""
    presentation = session_by_lsid(session, lsid)
    if presentation is None or presentation.session_type != PRESENTATION:
        raise ProtocolError("no such presentation")
    if presentation.ended:
        raise ProtocolError("This presentation is over")
    if presentation.owner_gsnumber != gsnumber:
        raise ProtocolError(NOT_PRESENTING)
    return presentation.id


class PresenterScreens:
    def __init__(self, runtime: Runtime, hub: Hub, screens: Screens) -> None:
        self.runtime = runtime
        self.hub = hub
        self.screens = screens
        self.shares = screens.shares  # this process's shares: the presenter's is one of them
        self.presenters: dict[int, ConsolePeer] = {}  # stream -> the console sending it (on this process)
        hub.on_stop.append(runtime.bus.subscribe(self.on_event))  # the unsubscribe, when the appliance stops

    def on_event(self, event: Any) -> None:
        if isinstance(event, ScreenChanged) and event.state["share"] is None:
            # Ended by the holder (the presentation ended): nothing is sent on it any more.
            self.presenters = {s: p for s, p in self.presenters.items() if s in self.shares.by_stream}
        elif isinstance(event, KeyFrameWanted):
            peer = self.presenters.get(event.stream)
            if peer is not None and event.stream in self.shares.by_stream:
                peer.send(console_wire.KeyFrameWanted(stream=event.stream))

    async def share(self, peer: ConsolePeer, rep_name: str, request: console_wire.PresentationShare) -> dict[str, int]:
        """The presenter shares (again: a new size); the stream its frames carry."""
        lsid = request.lsid
        held = self.shares.held.get(lsid)
        if held is not None and self.presenters.get(held.stream) is not peer:
            raise ProtocolError("The screen is already shared")
        caps = Caps.of(await self.runtime.settings())
        if request.width > caps.width or request.height > caps.height:
            raise ProtocolError(f"the picture is larger than the appliance allows ({caps.width}x{caps.height})")
        if held is None:
            session_id = await self.runtime.db.read(presentation_to_share, lsid, peer.gsnumber)
            held = self.shares.hold(lsid, session_id, "browser", caps, (peer.gsnumber, rep_name))
            self.presenters[held.stream] = peer
            await self.shares.recorder.open(lsid)
        held.share = screen.Share(
            stream=held.stream, source="browser", codec=request.codec, width=request.width, height=request.height
        )
        self.shares.announce(held)
        return {"stream": held.stream}

    def frame(self, peer: ConsolePeer, header: binary.Header, data: bytes) -> None:
        """A SCREEN frame from a presenting console (a console sends no other)."""
        if header.kind is not binary.FrameKind.SCREEN:
            raise ProtocolError("the console sends screen frames only")
        held = self.shares.by_stream.get(header.stream)
        if held is None or self.presenters.get(header.stream) is not peer:
            self.shares.drops.drop(f"console {peer.gsnumber}", "it shares no such stream")
            return
        self.shares.relay(held, header, data)

    def unshare(self, peer: ConsolePeer, lsid: str) -> None:
        held = self.shares.held.get(lsid)
        if held is None or self.presenters.get(held.stream) is not peer:
            raise ProtocolError(NOT_PRESENTING)
        del self.presenters[held.stream]
        self.shares.end(held, "", note=False)

    def console_gone(self, peer: ConsolePeer) -> None:
        """The presenting console's socket closed: its share ends (a reload shares again)."""
        for stream, presenter in list(self.presenters.items()):
            if presenter is peer:
                del self.presenters[stream]
                held = self.shares.by_stream.get(stream)
                if held is not None:
                    self.shares.end(held, "", note=False)
