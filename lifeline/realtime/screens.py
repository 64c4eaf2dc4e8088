"""Shared screens, across appliance processes: who shares (the Lifeline client or the
customer's page), on which stream, who watches and who is in control.

A share is held by the process holding its source (the client's socket, or the page's): it
gives the share its stream, checks and relays its frames (`hub.streams`, never decoded),
records them, asks its source for key frames, and decides control. Its state goes to every
process on the bus (`ScreenChanged`); consoles' requests travel to the holder
(`ScreenAsked`) and are answered like computer requests (`ComputerAnswered`). Console-side
checks (membership, the controller, the customer's allowance, coordinates, keys, rate) are
made where the console is, from that state, and the holder checks control again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from lifeline_protocol import ProtocolError, binary, screen
from lifeline_protocol import client as client_wire
from lifeline_protocol import console as console_wire
from lifeline_protocol import customer as customer_wire
from lifeline_protocol.common import Ack

from lifeline.clients import actions as clients
from lifeline.realtime.computer_events import ComputerAnswered
from lifeline.realtime.computer_link import Link, Pending
from lifeline.realtime.computers import NOT_CONNECTED, NOT_IN_SESSION, Computers, not_allowed
from lifeline.realtime.hub import ConsolePeer, CustomerPeer, Hub, Peer
from lifeline.realtime.screen_events import (
    ClipboardCopied,
    ScreenAnnounce,
    ScreenAsked,
    ScreenChanged,
    ScreenWanted,
    ScreenWatching,
)
from lifeline.realtime.screen_frames import Caps, DropLog, FrameGuard
from lifeline.realtime.screen_recording import ScreenRecorder
from lifeline.realtime.streams import KeyFrameWanted
from lifeline.runtime import Runtime
from lifeline.sessions import actions as engine
from lifeline.sessions import activity
from lifeline.sessions.events import Actor, ActorType
from lifeline.sessions.live import SessionState
from lifeline.sessions.models import SessionError
from lifeline.sessions.queries import session_by_lsid

log = logging.getLogger("lifeline.realtime")

NOTHING_SHARED = "Nothing is shared in this session"
NOT_CONTROLLER = "You are not in control of the screen"
BROWSER_SHARE = "A screen shared from the customer's browser cannot be controlled"
CLIENT_GONE = "The customer's Lifeline client disconnected"

SCREEN_REQUESTS: tuple[type, ...] = (
    console_wire.ScreenStart,
    console_wire.ScreenStop,
    console_wire.ScreenWatch,
    console_wire.ScreenUnwatch,
    console_wire.ScreenControl,
    console_wire.ScreenInput,
    console_wire.ScreenClipboard,
)


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


class InputRate:
    """Input events a console sent in the current second, toward INPUT_EVENTS_PER_SECOND."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.count = 0

    def over(self, events: int) -> bool:
        now = time.monotonic()
        if now - self.start >= 1:
            self.start, self.count = now, 0
        if self.count + events > screen.INPUT_EVENTS_PER_SECOND:
            return True
        self.count += events
        return False


class Screens:
    """This process's part: the shares it holds, every session's share state, its consoles' watching."""

    def __init__(self, runtime: Runtime, hub: Hub, computers: Computers) -> None:
        self.runtime = runtime
        self.hub = hub
        self.computers = computers
        self.held: dict[str, Held] = {}  # lsid -> the share held here
        self.by_stream: dict[int, Held] = {}
        self.views: dict[str, dict[str, Any]] = {}  # lsid -> the share's state, every process's
        self.watching: dict[str, dict[ConsolePeer, str]] = {}  # lsid -> this process's consoles watching (their names)
        self.rates: dict[int, InputRate] = {}  # console gsnumber -> its input this second
        self.drops = DropLog()
        self.recorder = ScreenRecorder(runtime)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe = runtime.bus.subscribe(self.on_event)
        hub.on_follow.append(self.console_follows)
        hub.on_unfollow.append(self.console_leaves)
        computers.screen_messages = self.from_client

    def stop(self) -> None:
        self._unsubscribe()
        self.recorder.close_all()

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what every process hears -------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        if isinstance(event, ScreenChanged):
            self._changed(event.lsid, event.state)
        elif isinstance(event, ScreenAsked):
            self._asked(event)
        elif isinstance(event, KeyFrameWanted):
            held = self.by_stream.get(event.stream)
            if held is not None:
                self._ask_key_frame(held)
        elif isinstance(event, ScreenWatching):
            held = self.held.get(event.lsid)
            if held is not None:
                self._watching(held, event)
        elif isinstance(event, ScreenWanted):
            page = self.hub.customers.get(event.lsid)
            if page is not None:
                page.send(customer_wire.ScreenView(shared=False, wanted=event.rep_name))
        elif isinstance(event, ScreenAnnounce):
            held = self.held.get(event.lsid)
            if held is not None:
                self._announce(held)
        elif isinstance(event, ClipboardCopied):
            console = next((p for p in self.hub.consoles if p.gsnumber == event.gsnumber), None)
            if console is not None and self.hub.follows(console, event.lsid):
                console.send(console_wire.ClipboardPushed(lsid=event.lsid, text=event.text))
        elif isinstance(event, SessionState) and event.state.get("status") == "ended":
            held = self.held.get(event.lsid)
            if held is not None:
                self._end(held, "", note=False)
            self.views.pop(event.lsid, None)
            self._spawn(self.recorder.session_ended(event.lsid, event.session_id))

    def _changed(self, lsid: str, state: dict[str, Any]) -> None:
        before = self.views.get(lsid)
        old = before["share"]["stream"] if before and before["share"] else None
        new = state["share"]["stream"] if state["share"] else None
        if state["share"] is None:
            self.views.pop(lsid, None)
        else:
            self.views[lsid] = state
        if old != new:
            for peer, name in self.watching.get(lsid, {}).items():
                if old is not None:
                    self.hub.streams.unwatch(peer, old)
                if new is not None:
                    self.hub.streams.watch(peer, new)
                    # A new share's holder learns who already watches (the customer sees them).
                    self.runtime.bus.publish_local(ScreenWatching(lsid, peer.gsnumber, name, True))
        message = screen_state(lsid, state)
        for peer in self._consoles(lsid):
            peer.send(message)
        page = self.hub.customers.get(lsid)
        if page is not None:
            page.send(screen_view(state))

    def _consoles(self, lsid: str) -> list[ConsolePeer]:
        return [peer for peer in self.hub.watchers.get(lsid, ()) if isinstance(peer, ConsolePeer)]

    def console_follows(self, peer: Peer, lsid: str) -> None:
        known = self.views.get(lsid)
        if known is not None:
            peer.send(screen_state(lsid, known))
        else:
            self.runtime.bus.publish_local(ScreenAnnounce(lsid))

    def console_leaves(self, peer: Peer, lsid: str) -> None:
        """Left the session or closed: no more frames, and no more control."""
        if not isinstance(peer, ConsolePeer):
            return
        watchers = self.watching.get(lsid)
        watched = watchers is not None and peer in watchers
        if watchers is not None and watched:
            del watchers[peer]
            if not watchers:
                del self.watching[lsid]
            view = self.views.get(lsid)
            if view is not None:
                self.hub.streams.unwatch(peer, view["share"]["stream"])
        view = self.views.get(lsid)
        if watched or (view is not None and view["controller"] == peer.gsnumber):
            self.runtime.bus.publish_local(ScreenWatching(lsid, peer.gsnumber, "", False, left=True))

    # -- a console's request, on the console's process ---------------------------------------

    def ask(self, peer: ConsolePeer, rep_name: str, request: Any) -> Ack | None:
        lsid: str = request.lsid
        ref: str | None = request.ref
        if not self.hub.follows(peer, lsid):
            return Ack.failed(ref, NOT_IN_SESSION)
        view = self.views.get(lsid)
        if isinstance(request, console_wire.ScreenWatch | console_wire.ScreenUnwatch):
            self._watch(peer, rep_name, lsid, isinstance(request, console_wire.ScreenWatch))
            return Ack.done(ref)
        if isinstance(request, console_wire.ScreenStart):
            known = self.computers.states.get(lsid)
            if known is None:
                # No client to share: the customer's page is asked instead.
                self.runtime.bus.publish_local(ScreenWanted(lsid, rep_name))
                return Ack.done(ref)
            if "screen" not in known[1]["allowed"]:
                return Ack.failed(ref, not_allowed("screen"))
        elif view is None:
            return Ack.failed(ref, NOTHING_SHARED)
        elif isinstance(request, console_wire.ScreenControl) and view["share"]["source"] != "client":
            return Ack.failed(ref, BROWSER_SHARE)
        elif isinstance(request, console_wire.ScreenInput | console_wire.ScreenClipboard):
            refusal = self._input_refusal(peer, lsid, view, request)
            if refusal:
                return Ack.failed(ref, refusal)
        if isinstance(request, console_wire.ScreenInput):
            ref = None  # no answer unless refused (the holder's refusal comes without a ref)
        else:
            self.computers.expect_answer(peer.gsnumber, ref)
        payload = msgspec.to_builtins(request)
        self.runtime.bus.publish_local(ScreenAsked(lsid, peer.gsnumber, rep_name, ref, payload))
        return None

    def _input_refusal(self, peer: ConsolePeer, lsid: str, view: dict[str, Any], request: Any) -> str:
        share = view["share"]
        if share["source"] != "client":
            return BROWSER_SHARE
        if view["controller"] != peer.gsnumber:
            return NOT_CONTROLLER
        known = self.computers.states.get(lsid)
        if known is None:
            return NOT_CONNECTED
        if "control" not in known[1]["allowed"]:
            return not_allowed("control")
        if isinstance(request, console_wire.ScreenClipboard):
            return ""
        for event in request.events:
            if screen.outside(event, share["width"], share["height"]):
                return f"({event.x}, {event.y}) is outside the shared screen ({share['width']}x{share['height']})"
            if isinstance(event, screen.Key) and not screen.known_key(event.key):
                return f"Unknown key {event.key!r}"
        rate = self.rates.setdefault(peer.gsnumber, InputRate())
        if rate.over(len(request.events)):
            return f"Too much input: at most {screen.INPUT_EVENTS_PER_SECOND} events a second"
        return ""

    def _watch(self, peer: ConsolePeer, rep_name: str, lsid: str, on: bool) -> None:
        watchers = self.watching.setdefault(lsid, {})
        view = self.views.get(lsid)
        if on and peer not in watchers:
            watchers[peer] = rep_name
            if view is not None:
                self.hub.streams.watch(peer, view["share"]["stream"])
        elif not on and peer in watchers:
            del watchers[peer]
            if view is not None:
                self.hub.streams.unwatch(peer, view["share"]["stream"])
        if not watchers:
            del self.watching[lsid]
        self.runtime.bus.publish_local(ScreenWatching(lsid, peer.gsnumber, rep_name, on))

    # -- on the holder -----------------------------------------------------------------------

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
            self._end(held, "", by=(event.gsnumber, event.rep_name))
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
            self._end(held, "")
            held = None
        if held is None:
            held = Held(link.lsid, link.session_id, self._new_stream(), "client", FrameGuard(0, caps), link=link)
            held.guard.stream = held.stream
            held.starter = (event.gsnumber, event.rep_name)
            self._hold(held)
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
            held.controller, note = (to.gsnumber, to.name), f"Screen control handed to {to.name}."
        self._announce(held)
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
        self._announce(held)

    def _announce(self, held: Held) -> None:
        self.runtime.bus.publish_local(ScreenChanged(held.lsid, held.state()))

    def _hold(self, held: Held) -> None:
        self.held[held.lsid] = held
        self.by_stream[held.stream] = held

    def _new_stream(self) -> int:
        """Random, so that processes need not agree; checked against every share known here."""
        taken = (
            {v["share"]["stream"] for v in self.views.values()} | set(self.by_stream) | set(self.hub.streams.viewers)
        )
        while True:
            stream = secrets.randbelow(binary.MAX_NUMBER) + 1
            if stream not in taken:
                return stream

    def _end(self, held: Held, error: str, *, note: bool = True, by: tuple[int, str] | None = None) -> None:
        if self.held.get(held.lsid) is held:
            del self.held[held.lsid]
        self.by_stream.pop(held.stream, None)
        was_shared = held.share is not None
        held.share, held.controller, held.error = None, None, error
        self._announce(held)
        if note and was_shared:
            text = "Screen sharing stopped." + (f" ({error})" if error else "")
            self._note(held.lsid, (by or held.starter)[0], text, customer=held.source == "browser")

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
            self._announce(held)
            if first:
                await self.recorder.open(held.lsid)
                text = f"Screen sharing started (monitor {message.monitor}, {message.width}x{message.height})."
                self._note(held.lsid, held.starter[0], text)
        elif isinstance(message, client_wire.ScreenStopped):
            if held is not None and ours and message.stream == held.stream:
                self._end(held, message.error)
        elif isinstance(message, client_wire.ClipboardChanged):
            if held is not None and ours and held.controller is not None and "control" in link.allowed:
                self.runtime.bus.publish_local(ClipboardCopied(link.lsid, held.controller[0], message.text))
        elif isinstance(message, client_wire.Failed) and held is not None and ours and held.share is None:
            self._end(held, message.error)  # its start_screen failed

    def link_gone(self, link: Link) -> None:
        """The client's socket closed (or a newer one replaced it): its share ends; the rep starts again."""
        held = self.held.get(link.lsid)
        if held is not None and held.link is link:
            self._end(held, CLIENT_GONE)

    def client_frame(self, link: Link, header: binary.Header, data: bytes) -> None:
        held = self.held.get(link.lsid)
        if held is None or held.link is not link or held.share is None:
            self.drops.drop(f"session {link.lsid}", "nothing is shared")
            return
        self._relay(held, header, data)

    def page_frame(self, page: CustomerPeer, header: binary.Header, data: bytes) -> None:
        if header.kind is not binary.FrameKind.SCREEN:
            raise ProtocolError("the page sends screen frames only")
        held = self.held.get(page.lsid)
        if held is None or held.page is not page:
            self.drops.drop(f"session {page.lsid}", "the page shares nothing")
            return
        self._relay(held, header, data)

    def _relay(self, held: Held, header: binary.Header, data: bytes) -> None:
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
            held = Held(page.lsid, session_id, self._new_stream(), "browser", FrameGuard(0, caps), page=page)
            held.guard.stream = held.stream
            held.starter = (page.gsnumber, "")
            self._hold(held)
            await self.recorder.open(page.lsid)
            text = f"Screen sharing started (the customer's browser, {request.width}x{request.height})."
            self._note(page.lsid, page.gsnumber, text, customer=True)
        held.share = screen.Share(
            stream=held.stream, source="browser", codec=request.codec, width=request.width, height=request.height
        )
        self._announce(held)
        return {"stream": held.stream}

    def page_unshare(self, page: CustomerPeer) -> None:
        held = self.held.get(page.lsid)
        if held is not None and held.page is page:
            self._end(held, "")


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
    if customer or not gsnumber:
        actor = engine.customer_actor(session, support_session)
    else:
        rep = clients.rep_in_session(session, lsid, gsnumber)
        actor = Actor(ActorType.REPRESENTATIVE, rep.gsnumber, rep.name, rep.user_id)
    activity.add_note(session, support_session, actor, text)


def screen_state(lsid: str, state: dict[str, Any]) -> console_wire.ScreenState:
    return console_wire.ScreenState(
        lsid=lsid,
        share=msgspec.convert(state["share"], screen.Share) if state["share"] else None,
        controller=state["controller"],
        controller_name=state["controller_name"],
        error=state["error"],
    )


def screen_view(state: dict[str, Any]) -> customer_wire.ScreenView:
    share = state["share"]
    return customer_wire.ScreenView(
        shared=share is not None,
        source=share["source"] if share else None,
        viewers=state.get("viewers", []),
        controller=state["controller_name"],
    )
