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

import logging
import time
from typing import Any

import msgspec
from lifeline_protocol import console as console_wire
from lifeline_protocol import customer as customer_wire
from lifeline_protocol import screen
from lifeline_protocol.common import Ack

from lifeline.realtime.computer_events import ClientReplaced
from lifeline.realtime.computers import NOT_CONNECTED, NOT_IN_SESSION, Computers, not_allowed
from lifeline.realtime.hub import ConsolePeer, Hub, Peer
from lifeline.realtime.screen_events import (
    ClipboardCopied,
    PageAttached,
    ScreenAnnounce,
    ScreenAsked,
    ScreenChanged,
    ScreenWanted,
    ScreenWatching,
)
from lifeline.realtime.screen_shares import CLIENT_GONE, NOT_CONTROLLER, Shares
from lifeline.runtime import Runtime
from lifeline.sessions.live import SessionState

log = logging.getLogger("lifeline.realtime")

NOTHING_SHARED = "Nothing is shared in this session"
BROWSER_SHARE = "A screen shared from the customer's browser cannot be controlled"

SCREEN_REQUESTS: tuple[type, ...] = (
    console_wire.ScreenStart,
    console_wire.ScreenStop,
    console_wire.ScreenWatch,
    console_wire.ScreenUnwatch,
    console_wire.ScreenControl,
    console_wire.ScreenInput,
    console_wire.ScreenClipboard,
)


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
    """Every process's part: every session's share state, its consoles' watching and requests,
    and (`shares`) the shares it holds."""

    def __init__(self, runtime: Runtime, hub: Hub, computers: Computers) -> None:
        self.runtime = runtime
        self.hub = hub
        self.computers = computers
        self.views: dict[str, dict[str, Any]] = {}  # lsid -> the share's state, every process's
        self.watching: dict[str, dict[ConsolePeer, str]] = {}  # lsid -> this process's consoles watching (their names)
        self.rates: dict[int, InputRate] = {}  # console gsnumber -> its input this second
        self.shares = Shares(runtime, hub, computers, self.views)
        self._unsubscribe = runtime.bus.subscribe(self.on_event)
        hub.on_follow.append(self.console_follows)
        hub.on_unfollow.append(self.console_leaves)

    def stop(self) -> None:
        self._unsubscribe()
        self.shares.stop()

    # -- what every process hears -------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        if isinstance(event, ScreenChanged):
            self._changed(event.lsid, event.state)
        elif isinstance(event, ScreenWanted):
            page = self.hub.customers.get(event.lsid)
            if page is not None:
                page.send(customer_wire.ScreenView(shared=False, wanted=event.rep_name))
        elif isinstance(event, ClipboardCopied):
            console = next((p for p in self.hub.consoles if p.gsnumber == event.gsnumber), None)
            if console is not None and self.hub.follows(console, event.lsid):
                console.send(console_wire.ClipboardPushed(lsid=event.lsid, text=event.text))
        elif isinstance(event, SessionState) and event.state.get("status") == "ended":
            self.views.pop(event.lsid, None)
        elif isinstance(event, ClientReplaced):
            # A new client socket ends the old one's share; said here too, in case the
            # process that held it died and cannot say so.
            view = self.views.get(event.lsid)
            if view is not None and view["share"]["source"] == "client" and event.lsid not in self.shares.held:
                ended = {**view, "share": None, "controller": None, "controller_name": "", "error": CLIENT_GONE}
                self._changed(event.lsid, ended)
        elif isinstance(event, PageAttached):
            # Likewise for the page: a new page has shared nothing yet, so a browser share
            # held elsewhere was its old page's (ended by its holder, unless that died).
            view = self.views.get(event.lsid)
            if view is not None and view["share"]["source"] == "browser" and event.lsid not in self.shares.held:
                self._changed(event.lsid, {**view, "share": None, "controller": None, "controller_name": ""})

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
        for peer in self.hub.consoles_in(lsid):
            peer.send(message)
        page = self.hub.customers.get(lsid)
        if page is not None:
            page.send(screen_view(state))

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
        self.rates.pop(peer.gsnumber, None)
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
