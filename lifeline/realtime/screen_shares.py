"""The shares this appliance process holds: those whose source's socket (the Lifeline
client's, or the customer's page's) is here. The holder gives a share its stream, checks
and relays its frames (`hub.streams`, never decoded), records them, asks its source for
key frames, decides who is in control, notes what happened, and says the share's state
to every process (`ScreenChanged`); realtime.screens is the part every process has."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from lifeline_protocol import ProtocolError, binary, screen
from lifeline_protocol import client as client_wire
from lifeline_protocol import console as console_wire
from lifeline_protocol import customer as customer_wire

from lifeline.clients import actions as clients
from lifeline.directory.models import User
from lifeline.presence.models import ClientConnection
from lifeline.realtime.computer_events import ComputerAnswered
from lifeline.realtime.computer_link import Link, Pending
from lifeline.realtime.computers import Computers, not_allowed
from lifeline.realtime.hub import CustomerPeer, Hub
from lifeline.realtime.screen_events import (
    ClipboardCopied,
    ScreenAnnounce,
    ScreenAsked,
    ScreenChanged,
    ScreenWatching,
)
from lifeline.realtime.screen_frames import Caps, DropLog, FrameGuard
from lifeline.realtime.screen_recording import ScreenRecorder
from lifeline.realtime.streams import KeyFrameWanted
from lifeline.runtime import Runtime
from lifeline.sessions import actions as engine
from lifeline.sessions.events import log_event
from lifeline.sessions.live import SessionState
from lifeline.sessions.models import EventType, SessionError
from lifeline.sessions.queries import session_by_lsid

log = logging.getLogger("lifeline.realtime")

NOT_CONTROLLER = "You are not in control of the screen"
CLIENT_GONE = "The customer's Lifeline client disconnected"


@dataclass
class Held:
    """A share whose source is on this process."""

    lsid: str
    session_id: int
    stream: int
    source: screen.Source
    guard: FrameGuard
    link: Link | None = None  # the client's socket
    page: CustomerPeer | None = None  # or the customer's page
    share: screen.Share | None = None  # None until the client says it started
    starter: tuple[int, str] = (0, "")  # the rep who asked (gsnumber, name)
    controller: tuple[int, str] | None = None
    viewers: dict[int, str] = field(default_factory=dict)
    error: str = ""
    drops: DropLog = field(default_factory=DropLog)  # its own count: one flood does not hide another share's

    def state(self) -> dict[str, Any]:
        return {
            "share": msgspec.to_builtins(self.share) if self.share else None,
            "controller": self.controller[0] if self.controller else None,
            "controller_name": self.controller[1] if self.controller else "",
            "viewers": sorted(set(self.viewers.values())),
            "error": self.error,
        }


class Shares:
    """This process's shares, by session and by stream."""

    def __init__(self, runtime: Runtime, hub: Hub, computers: Computers, views: dict[str, dict[str, Any]]) -> None:
        self.runtime = runtime
        self.hub = hub
        self.computers = computers
        self.views = views  # every session's share state (realtime.screens keeps it)
        self.held: dict[str, Held] = {}  # lsid -> the share held here
        self.by_stream: dict[int, Held] = {}
        self.drops = DropLog()
        self.recorder = ScreenRecorder(runtime)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe = runtime.bus.subscribe(self.on_event)
        computers.screen_messages = self.from_client

    def stop(self) -> None:
        self._unsubscribe()
        self.recorder.close_all()

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_event(self, event: Any) -> None:
        if isinstance(event, ScreenAsked):
            self._asked(event)
        elif isinstance(event, KeyFrameWanted):
            held = self.by_stream.get(event.stream)
            if held is not None:
                self._ask_key_frame(held)
        elif isinstance(event, ScreenWatching):
            held = self.held.get(event.lsid)
            if held is not None:
                self._watching(held, event)
        elif isinstance(event, ScreenChanged):
            held = self.held.get(event.lsid)
            share = event.state["share"]
            if held is not None and share is not None and share["stream"] != held.stream:
                self._superseded(held)
        elif isinstance(event, ScreenAnnounce):
            held = self.held.get(event.lsid)
            if held is not None:
                self.announce(held)
        elif isinstance(event, SessionState) and event.state.get("status") == "ended":
            held = self.held.get(event.lsid)
            if held is not None:
                self.end(held, "", note=False)
            self._spawn(self.recorder.session_ended(event.lsid, event.session_id))

    def _answer(self, event: ScreenAsked, error: str = "", result: Any = None) -> None:
        if event.ref is None and not error:
            return
        self.runtime.bus.publish_local(ComputerAnswered(event.gsnumber, event.ref, not error, result, error))

    def _asked(self, event: ScreenAsked) -> None:
        try:
            request = msgspec.convert(event.request, console_wire.ConsoleRequest)
        except msgspec.ValidationError:
            return
        held = self.held.get(event.lsid)
        if isinstance(request, console_wire.ScreenStart):
            link = self.computers.links.get(event.lsid)
            if link is not None:
                self._spawn(self._start(link, event, request))
            return
        if held is None:
            return  # held elsewhere (or gone: the console's wait times out)
        if isinstance(request, console_wire.ScreenStop):
            if held.link is not None:
                held.link.peer.send(client_wire.StopScreen(stream=held.stream))
            self.end(held, "", by=(event.gsnumber, event.rep_name))
            self._answer(event)
        elif isinstance(request, console_wire.ScreenControl):
            self._spawn(self._control(held, event, request))
        elif isinstance(request, console_wire.ScreenInput | console_wire.ScreenClipboard):
            if held.link is None or held.controller is None or held.controller[0] != event.gsnumber:
                self._answer(event, NOT_CONTROLLER)
            elif "control" not in held.link.allowed:
                self._answer(event, not_allowed("control"))
            elif isinstance(request, console_wire.ScreenInput):
                held.link.peer.send(client_wire.ScreenInput(stream=held.stream, events=request.events))
            else:
                held.link.peer.send(client_wire.SetClipboard(text=request.text))
                self._answer(event)

    async def _start(self, link: Link, event: ScreenAsked, request: console_wire.ScreenStart) -> None:
        if "screen" not in link.allowed:
            self._answer(event, not_allowed("screen"))
            return
        caps = Caps.of(await self.runtime.settings())
        held = self.held.get(link.lsid)
        if held is not None and held.link is not link:
            if held.page is not None:
                held.page.send(customer_wire.ScreenView(shared=False))
            self.end(held, "")
            held = None
        if held is None:
            held = self.hold(link.lsid, link.session_id, "client", caps, (event.gsnumber, event.rep_name), link=link)
        try:
            number = link.request_id(Pending("screen_start", event.gsnumber, event.ref))
        except SessionError as error:
            self._answer(event, str(error))
            return
        link.peer.send(
            client_wire.StartScreen(
                request=number,
                stream=held.stream,
                monitor=request.monitor,
                fps=caps.fps,
                kbits=caps.kbits,
                max_width=caps.width,
                max_height=caps.height,
            )
        )

    async def _control(self, held: Held, event: ScreenAsked, request: console_wire.ScreenControl) -> None:
        asker = (event.gsnumber, event.rep_name)
        current = held.controller
        if request.release:
            if current is None or current[0] != event.gsnumber:
                self._answer(event, NOT_CONTROLLER)
                return
            held.controller, note = None, "Screen control released."
        elif request.to is None or request.to == event.gsnumber:
            if current is not None and current[0] != event.gsnumber:
                self._answer(event, f"{current[1]} is in control; they can hand it over")
                return
            held.controller, note = asker, "Screen control taken."
        else:
            if current is None or current[0] != event.gsnumber:
                self._answer(event, "Only the representative in control can hand it over")
                return
            try:
                to = await self.runtime.db.read(clients.rep_in_session, held.lsid, request.to)
            except SessionError:
                self._answer(event, "They are not in this session")
                return
            if self.held.get(held.lsid) is not held:
                self._answer(event, "The share has ended")
                return
            held.controller, note = (to.gsnumber, to.name), f"Screen control handed to {to.name}."
        self.announce(held)
        self._answer(event)
        self._note(held.lsid, event.gsnumber, note)

    def _watching(self, held: Held, event: ScreenWatching) -> None:
        if event.watching:
            held.viewers[event.gsnumber] = event.name
        else:
            held.viewers.pop(event.gsnumber, None)
        if event.left and held.controller is not None and held.controller[0] == event.gsnumber:
            held.controller = None
            self._note(held.lsid, event.gsnumber, "Screen control released: the representative in control left.")
        self.announce(held)

    def announce(self, held: Held) -> None:
        self.runtime.bus.publish_local(ScreenChanged(held.lsid, held.state()))

    def hold(
        self,
        lsid: str,
        session_id: int,
        source: screen.Source,
        caps: Caps,
        starter: tuple[int, str],
        *,
        link: Link | None = None,
        page: CustomerPeer | None = None,
    ) -> Held:
        """A new share held here (the client's, the page's or a presenting console's), on a fresh stream."""
        stream = self._new_stream()
        held = Held(lsid, session_id, stream, source, FrameGuard(stream, caps), link=link, page=page, starter=starter)
        self.held[lsid] = held
        self.by_stream[stream] = held
        return held

    def _new_stream(self) -> int:
        """Random, so that processes need not agree; checked against every share known here."""
        taken = (
            {v["share"]["stream"] for v in self.views.values()} | set(self.by_stream) | set(self.hub.streams.viewers)
        )
        while True:
            stream = secrets.randbelow(binary.MAX_NUMBER) + 1
            if stream not in taken:
                return stream

    def end(self, held: Held, error: str, *, note: bool = True, by: tuple[int, str] | None = None) -> None:
        if self.held.get(held.lsid) is held:
            del self.held[held.lsid]
        self.by_stream.pop(held.stream, None)
        was_shared = held.share is not None
        held.share, held.controller, held.error = None, None, error
        self.announce(held)
        if note and was_shared:
            text = "Screen sharing stopped." + (f" ({error})" if error else "")
            self._note(held.lsid, (by or held.starter)[0], text, customer=by is None and held.source == "browser")

    def _superseded(self, held: Held) -> None:
        """Another process started a share of this session (the client's, while the page
        shared here): this one ends without a word, the newer one speaks for the session."""
        del self.held[held.lsid]
        self.by_stream.pop(held.stream, None)
        if held.page is not None:
            held.page.send(customer_wire.ScreenView(shared=False))
        elif held.link is not None:
            held.link.peer.send(client_wire.StopScreen(stream=held.stream))

    def _ask_key_frame(self, held: Held) -> None:
        if held.link is not None:
            held.link.peer.send(client_wire.KeyFrame(stream=held.stream))
        elif held.page is not None:
            held.page.send(customer_wire.KeyFrameWanted(stream=held.stream))

    def _note(self, lsid: str, gsnumber: int, text: str, *, customer: bool = False) -> None:
        self._spawn(self._write_note(lsid, gsnumber, text, customer))

    async def _write_note(self, lsid: str, gsnumber: int, text: str, customer: bool) -> None:
        try:
            await self.runtime.db.write(_log_note, lsid, gsnumber, text, customer)
        except SessionError:
            pass  # the session ended meanwhile, or the rep left: nothing to note it by
        except Exception:
            log.exception("could not note %r in session %s", text, lsid)

    # -- the sources -------------------------------------------------------------------------

    async def from_client(self, link: Link, message: Any) -> None:
        """What the client says about its screen (realtime.computers passes it on)."""
        held = self.held.get(link.lsid)
        ours = held is not None and held.link is link
        if isinstance(message, client_wire.ScreenStarted):
            if held is None or not ours or message.stream != held.stream:
                log.warning("session %s: the client started stream %d nobody asked for", link.lsid, message.stream)
                return
            first = held.share is None
            held.share = screen.Share(
                stream=held.stream,
                source="client",
                codec=message.codec,
                width=message.width,
                height=message.height,
                monitor=message.monitor,
                monitors=message.monitors,
                control=True,
            )
            held.error = ""
            self.announce(held)
            if first:
                await self.recorder.open(held.lsid)
                text = f"Screen sharing started (monitor {message.monitor}, {message.width}x{message.height})."
                self._note(held.lsid, held.starter[0], text)
        elif isinstance(message, client_wire.ScreenStopped):
            if held is not None and ours and message.stream == held.stream:
                self.end(held, message.error)
        elif isinstance(message, client_wire.ClipboardChanged):
            if held is not None and ours and held.controller is not None and "control" in link.allowed:
                self.runtime.bus.publish_local(ClipboardCopied(link.lsid, held.controller[0], message.text))
        elif isinstance(message, client_wire.Failed) and held is not None and ours and held.share is None:
            self.end(held, message.error)  # its start_screen failed

    def link_gone(self, link: Link) -> None:
        """The client's socket closed (or a newer one replaced it): its share ends; the rep starts again."""
        held = self.held.get(link.lsid)
        if held is not None and held.link is link:
            self.end(held, CLIENT_GONE)

    def client_frame(self, link: Link, header: binary.Header, data: bytes) -> None:
        held = self.held.get(link.lsid)
        if held is None or held.link is not link or held.share is None:
            self.drops.drop(f"session {link.lsid}", "nothing is shared")
            return
        self.relay(held, header, data)

    def page_frame(self, page: CustomerPeer, header: binary.Header, data: bytes) -> None:
        if header.kind is not binary.FrameKind.SCREEN:
            raise ProtocolError("the page sends screen frames only")
        held = self.held.get(page.lsid)
        if held is None or held.page is not page:
            self.drops.drop(f"session {page.lsid}", "the page shares nothing")
            return
        self.relay(held, header, data)

    def relay(self, held: Held, header: binary.Header, data: bytes) -> None:
        refusal = held.guard.refusal(header, len(data))
        if refusal is not None:
            held.drops.drop(f"session {held.lsid}", refusal)
            return
        self.hub.streams.send(header, data)
        self.recorder.append(held.lsid, header, data)

    async def page_share(self, page: CustomerPeer, request: customer_wire.ScreenShare) -> dict[str, int]:
        """The customer's page shares (again: a new size). The stream its frames carry."""
        held = self.held.get(page.lsid)
        view = self.views.get(page.lsid)
        if (held is None and view is not None) or (held is not None and held.page is not page):
            raise ProtocolError("The screen is already shared")
        if held is None:
            caps = Caps.of(await self.runtime.settings())
            session_id = await self.runtime.db.read(_session_id, page.lsid)
            held = self.hold(page.lsid, session_id, "browser", caps, (page.gsnumber, ""), page=page)
            await self.recorder.open(page.lsid)
            text = f"Screen sharing started (the customer's browser, {request.width}x{request.height})."
            self._note(page.lsid, page.gsnumber, text, customer=True)
        held.share = screen.Share(
            stream=held.stream, source="browser", codec=request.codec, width=request.width, height=request.height
        )
        self.announce(held)
        return {"stream": held.stream}

    def page_unshare(self, page: CustomerPeer) -> None:
        held = self.held.get(page.lsid)
        if held is not None and held.page is page:
            self.end(held, "")


def _session_id(session: Any, lsid: str) -> int:
    support_session = session_by_lsid(session, lsid)
    if support_session is None or support_session.ended:
        raise ProtocolError("this support session is over")
    return support_session.id


def _log_note(session: Any, lsid: str, gsnumber: int, text: str, customer: bool) -> None:
    """Screen sharing and control have no event types of their own in the spec: they are
    session notes ("Session Note Added"), by the rep who did it (or the customer)."""
    support_session = session_by_lsid(session, lsid)
    if support_session is None or support_session.ended:
        raise SessionError("The session has already ended")
    connection = session.get(ClientConnection, gsnumber) if gsnumber and not customer else None
    user = session.get(User, connection.user_id) if connection is not None and connection.user_id else None
    if connection is not None and user is not None:
        actor = engine.rep_actor(connection, user)  # (a rep who just left is still who did it)
    else:
        actor = engine.customer_actor(session, support_session)
    # Not activity.add_note: a rep who just left, or the customer, did it too.
    log_event(session, support_session, EventType.SESSION_NOTE_ADDED, actor, body=text)
