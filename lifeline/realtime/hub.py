"""The hub of one appliance process: which sockets follow which sessions, what waits in which
queue, and the fan-out of live events (from this process or, through the bus, any other).

Every socket has a bounded outbox drained by its own writer task. A client too slow to keep
up is disconnected rather than allowed to grow memory; it reconnects and resumes from the
last event it saw, so nothing is lost. Binary streams (screens) reach a socket through its
lanes instead (realtime.streams): there a slow viewer skips frames, it is not disconnected.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from lifeline_protocol import CloseCode, encode
from lifeline_protocol.common import Event, Message, Typing, Who, event_records
from lifeline_protocol.console import Rep, Reps, SessionChanged
from lifeline_protocol.customer import Duty, Position, SessionView, State
from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.appliance.stamps import StampBumped
from lifeline.bus import BusResumed
from lifeline.db.base import utcnow
from lifeline.directory import queries as directory_queries
from lifeline.directory.actions import SignInsEnded
from lifeline.jobs import Job, Reach
from lifeline.realtime.streams import Lanes, StreamRelay
from lifeline.runtime import STAMP_POLL_SECONDS, Runtime
from lifeline.sessions import connections
from lifeline.sessions.duty import on_duty
from lifeline.sessions.live import (
    SessionEventAdded,
    SessionState,
    SomeoneTyping,
    event_payload,
    file_ids_by_event,
    session_state,
)
from lifeline.sessions.models import SupportSession
from lifeline.sessions.queries import events_after, sessions_by_lsid, waiting_sessions
from lifeline.sessions.queues import Queue, QueueKind

log = logging.getLogger("lifeline.realtime")

OUTBOX_LIMIT = 2000
DETACH_GRACE_SECONDS = 120.0
# How often dropped connections are checked: a customer's grace is a setting of seconds.
EXPIRE_EVERY_SECONDS = 1.0
REFRESH_DELAY = 0.3
RESTART = CloseCode.RESTART  # the appliance's data was replaced (a restored backup); reconnect
SIGNED_OUT = CloseCode.UNAUTHORIZED  # the console goes to its sign-in page

# What a customer may see of a session's log: never notes, never system information.
CUSTOMER_EVENTS = frozenset(
    {
        "Chat Message",
        "File Upload",
        "File Download",
        "Conference Member Added",
        "Conference Member Departed",
        "Conference Owner Changed",
        "Session Transferred to Queue",
        "Session End",
    }
)


def event_message(lsid: str, event: dict[str, Any]) -> str:
    (record,) = event_records([event])
    return encode(Event(lsid=lsid, event=record)).decode()


class Peer:
    """One live socket: messages for it wait in a bounded outbox, in order; frames of the
    streams it watches wait in its lanes, where they may be skipped."""

    def __init__(self, gsnumber: int) -> None:
        self.gsnumber = gsnumber
        # str goes out as a text frame, bytes as a binary one (JSON must be str); None closes.
        self.outbox: asyncio.Queue[str | bytes | None] = asyncio.Queue(OUTBOX_LIMIT)
        self._ready = asyncio.Event()  # set when the outbox or a lane gets something
        self.frames = Lanes(self._ready.set)
        self.last_event_id: dict[str, int] = {}
        self._held: list[tuple[str, dict[str, Any]]] | None = []  # events held while history is sent
        self._holding: dict[str, list[dict[str, Any]]] = {}  # the same, for one session joined later
        self.follows: set[str] | None = None  # while attaching: which held events will matter
        self.overflowed = False
        self.close_code = 1000
        self.close_reason = ""
        # Its connection went with the data a restored backup replaced: nothing to keep for it.
        self.dropped = False

    def send(self, message: Message) -> None:
        self.send_text(encode(message).decode())

    def send_text(self, text: str) -> None:
        self._put(text)

    def send_bytes(self, data: bytes) -> None:
        """A binary message that must arrive, in order with the text ones (not a stream's frame)."""
        self._put(data)

    def _put(self, message: str | bytes) -> None:
        if self.overflowed:
            return
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.outbox.get_nowait()
                self.outbox.put_nowait(None)  # tells the writer to close the socket
        self._ready.set()

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.close_code = code
        self.close_reason = reason
        with contextlib.suppress(asyncio.QueueFull):
            self.outbox.put_nowait(None)
        self._ready.set()

    async def next_out(self) -> str | bytes | None:
        """What the socket's writer sends next: the outbox first (None: close the socket),
        then the streams' frames, taking turns."""
        while True:
            if not self.outbox.empty():
                return self.outbox.get_nowait()
            frame = self.frames.take()
            if frame is not None:
                return frame
            self._ready.clear()
            await self._ready.wait()

    def session_event(self, lsid: str, event: dict[str, Any], text: str | None = None) -> None:
        """`text`: the message already encoded (one encoding for every socket that gets it)."""
        if self._held is not None:
            self._held.append((lsid, event))
            return
        if lsid in self._holding:
            self._holding[lsid].append(event)
            return
        if event["id"] <= self.last_event_id.get(lsid, 0):
            return  # already sent (replayed from the log)
        if not self.wants(event):
            return
        self.last_event_id[lsid] = event["id"]
        self.send_text(text or event_message(lsid, event))

    def wants(self, event: dict[str, Any]) -> bool:
        return True

    def release(self) -> None:
        """History is out: send what arrived meanwhile, skipping what the history had."""
        held, self._held = self._held or [], None
        for lsid, event in held:
            if self.follows is None or lsid in self.follows:
                self.session_event(lsid, event)

    def hold(self, lsid: str) -> None:
        self._holding.setdefault(lsid, [])

    def catch_up(self, lsid: str, history: list[dict[str, Any]]) -> None:
        """A session joined later: its log so far, then what arrived while it was read."""
        held = self._holding.pop(lsid, [])
        for event in sorted([*history, *held], key=lambda e: e["id"]):
            self.session_event(lsid, event)


class CustomerPeer(Peer):
    def __init__(self, gsnumber: int, lsid: str) -> None:
        super().__init__(gsnumber)
        self.lsid = lsid
        self.position: int | None = None
        self.on_duty: bool | None = None  # whether someone could take its queue now, as last told
        self.pending_states: list[SessionState] = []  # arrived while its session was being read

    def wants(self, event: dict[str, Any]) -> bool:
        return event["type"] in CUSTOMER_EVENTS


class ConsolePeer(Peer):
    """A representative's console. It sees waiting sessions of the queues it may take from,
    and everything of the sessions its connection is in."""

    def __init__(self, gsnumber: int, user_id: int, sign_in_id: str = "") -> None:
        super().__init__(gsnumber)
        self.user_id = user_id
        self.sign_in_id = sign_in_id  # the browser sign-in it was opened with (web.auth)
        self.signed_out = False  # that sign-in ended: the socket is closing, nothing more is done
        self.queues: set[tuple[str, int]] = set()
        self.known: set[str] = set()
        # Session states that arrive while the console logs in wait here: until then it
        # does not know its gsnumber, so it cannot tell whether they concern it.
        self.pending_states: list[SessionState] | None = []

    def may_see(self, state: dict[str, Any]) -> bool:
        if any(member["gsnumber"] == self.gsnumber for member in state["members"]):
            return True
        queue = state["queue"]
        return state["status"] == "waiting" and (queue["kind"], queue["id"] or 0) in self.queues


class WaitingIndex:
    """Every session waiting in a queue, across all appliance processes (kept from SessionState),
    each queue in arrival order so a customer's place in line is a binary search."""

    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self._lines: dict[tuple[str, int], list[tuple[float, str]]] = defaultdict(list)

    def apply(self, state: dict[str, Any]) -> set[tuple[str, int]]:
        """Record a new state; returns the queues whose line changed."""
        lsid = state["lsid"]
        before = self.states.get(lsid)
        if before is not None and before.get("version", 0) > state.get("version", 0):
            return set()  # an older snapshot arriving late
        changed: set[tuple[str, int]] = set()
        if before is not None:
            self._leave(before)
            changed.add(_queue_key(before))
            del self.states[lsid]
        if state["status"] == "waiting":
            self.states[lsid] = state
            bisect.insort(self._lines[_queue_key(state)], (state["start_time"], lsid))
            changed.add(_queue_key(state))
        return changed

    def _leave(self, state: dict[str, Any]) -> None:
        line = self._lines[_queue_key(state)]
        entry = (state["start_time"], state["lsid"])
        index = bisect.bisect_left(line, entry)
        if index < len(line) and line[index] == entry:
            del line[index]

    def position_of(self, lsid: str) -> int | None:
        state = self.states.get(lsid)
        if state is None:
            return None
        return bisect.bisect_left(self._lines[_queue_key(state)], (state["start_time"], lsid)) + 1

    def line(self, queue: tuple[str, int]) -> list[tuple[float, str]]:
        return self._lines.get(queue, [])

    def visible_to(self, console: ConsolePeer) -> list[dict[str, Any]]:
        return [self.states[lsid] for queue in console.queues for _, lsid in self.line(queue)]


def _queue_key(state: dict[str, Any]) -> tuple[str, int]:
    return (state["queue"]["kind"] or "", state["queue"]["id"] or 0)


class Hub:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.watchers: dict[str, set[Peer]] = defaultdict(set)
        self.attaching: set[Peer] = set()
        self.consoles: set[ConsolePeer] = set()
        self.customers: dict[str, CustomerPeer] = {}
        self.waiting = WaitingIndex()
        self.detached: dict[int, float] = {}  # gsnumber -> when it ends unless its client comes (back)
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe = runtime.bus.subscribe(self.on_event)
        self._jobs: list[Job] = []
        self.streams = StreamRelay(runtime.bus)
        self._restored = runtime.generations[stamps.RESTORED]
        self._directory = runtime.generations[stamps.DIRECTORY]
        # Told when a console starts following a session (realtime.computers: the computer's state).
        self.on_follow: list[Callable[[Peer, str], None]] = []
        # ... and when one stops (left the session, or its socket closed): realtime.screens.
        self.on_unfollow: list[Callable[[Peer, str], None]] = []
        self.on_stop: list[Callable[[], None]] = []  # sockets of other kinds close too
        self.on_replaced: list[Callable[[], None]] = []  # ... and when a restore replaced the data
        self.more_jobs: list[Job] = []  # the jobs of other sockets' parts (realtime.jump), started with these

    async def start(self) -> None:
        """Learn what waits in the queues now; from here on live events keep it current."""
        await self._load_waiting()
        self._jobs = self.jobs()
        self.runtime.jobs.start(*self._jobs)

    def jobs(self) -> list[Job]:
        return [
            # Customers who did not come back are any process's to end (the database says
            # who is away since when); the timers of this process's own sockets are its own.
            Job("expire dropped connections", self.expire_detached, EXPIRE_EVERY_SECONDS, Reach.SHARED),
            Job("follow restores", self._follow_restores, STAMP_POLL_SECONDS),
            Job("follow sign-ins", self._follow_sign_ins, STAMP_POLL_SECONDS),
            *self.more_jobs,
        ]

    async def _load_waiting(self) -> None:
        def load(session: Session) -> list[dict[str, Any]]:
            return [session_state(session, waiting) for waiting in waiting_sessions(session)]

        waiting = WaitingIndex()
        for state in await self.runtime.db.read(load):
            waiting.apply(state)
        self.waiting = waiting

    async def stop(self) -> None:
        self._unsubscribe()
        self.streams.close()
        await self.runtime.jobs.stop(*self._jobs)
        for peer in [*self.consoles, *self.customers.values()]:
            peer.close()
        for hook in self.on_stop:
            hook()

    async def _follow_restores(self) -> None:
        """A restored backup replaced the database (here, in another process, or with the
        `lifeline` command): the restored stamp moved. (Seen before acting: a failure is
        logged, not retried.)"""
        generation = self.runtime.generations[stamps.RESTORED]
        if generation != self._restored:
            self._restored = generation
            await self.data_replaced()

    async def _follow_sign_ins(self) -> None:
        """Users changed (here, in another process, or with the `lifeline` command): consoles
        whose sign-in ended (disabled, deleted, a new password) close, on every node."""
        generation = self.runtime.generations[stamps.DIRECTORY]
        if generation != self._directory:
            self._directory = generation
            await self.close_signed_out_consoles()

    async def close_signed_out_consoles(self) -> None:
        restored = self.runtime.generations[stamps.RESTORED]
        if restored != self._restored:
            return  # a restored backup replaced the data: `data_replaced` closes every socket (1012)
        # (A restore ends every sign-in too: reconnecting consoles are then sent to sign in.)
        consoles = [peer for peer in self.consoles if not peer.signed_out]
        ids = {peer.sign_in_id for peer in consoles}

        def read(session: Session) -> tuple[int, set[str]]:
            return stamps.read_all(session)[stamps.RESTORED], directory_queries.console_sign_ins_in_force(session, ids)

        restored_in_data, in_force = await self.runtime.db.read(read)
        if (
            restored_in_data != self.runtime.stamp_seen(stamps.RESTORED)
            or self.runtime.generations[stamps.RESTORED] != restored
        ):
            return  # read from restored data this process has not caught up with: as above
        for peer in consoles:
            # Still open here: not closed meanwhile (logged out, or by a restore) with a code of its own.
            if peer in self.consoles and not peer.dropped and peer.sign_in_id not in in_force:
                peer.signed_out = True
                peer.close(SIGNED_OUT, "signed out: sign in again")
                log.info("closed the console of user %d: its sign-in ended", peer.user_id)

    async def data_replaced(self) -> None:
        """Every socket's connection and session are gone with the old data: close them all
        (clients reconnect and start afresh, or are told their session is over) and learn
        the queues again."""
        peers = {*self.consoles, *self.customers.values(), *self.attaching}
        for peers_of_session in self.watchers.values():
            peers |= peers_of_session
        for peer in peers:
            peer.dropped = True
            peer.close(RESTART)
        self.watchers.clear()
        self.attaching.clear()
        self.consoles.clear()
        self.customers.clear()
        self.detached.clear()
        for hook in self.on_replaced:
            hook()
        await self._load_waiting()
        log.warning("the appliance's data was replaced by a restored backup; closed %d sockets", len(peers))

    # --- sockets coming and going ----------------------------------------------------------

    def watch(self, peer: Peer, lsids: Iterable[str]) -> None:
        for lsid in lsids:
            self.watchers[lsid].add(peer)

    def unwatch(self, peer: Peer, lsid: str) -> None:
        peers = self.watchers.get(lsid)
        if peers is not None and peer in peers:
            peers.discard(peer)
            if not peers:
                del self.watchers[lsid]
            for hook in self.on_unfollow:
                hook(peer, lsid)

    def begin_attach(self, peer: Peer) -> None:
        """Before a client's history is read: every session event from now on is held for it,
        so none committed between that read and `end_attach` is missed."""
        self.attaching.add(peer)

    def end_attach(self, peer: Peer, lsids: Iterable[str]) -> None:
        """History read: follow these sessions from now on (held events of others are dropped)."""
        self.attaching.discard(peer)
        peer.follows = set(lsids)
        self.watch(peer, peer.follows)

    def followed(self, peer: Peer, lsids: Iterable[str]) -> None:
        for lsid in lsids:
            for hook in self.on_follow:
                hook(peer, lsid)

    def add_console(self, peer: ConsolePeer) -> None:
        """Before the console's login is read, so no session change between the two is missed."""
        self.consoles.add(peer)
        self.begin_attach(peer)

    def console_ready(self, peer: ConsolePeer) -> None:
        """The console knows its gsnumber and has its first state: apply what came meanwhile."""
        self.detached.pop(peer.gsnumber, None)
        pending, peer.pending_states = peer.pending_states or [], None
        for event in pending:
            self._console_state(peer, event)

    def add_customer(self, peer: CustomerPeer, version: int) -> None:
        """The customer's client has its welcome (built from its session at `version`)."""
        self.customers[peer.lsid] = peer
        self.end_attach(peer, [peer.lsid])
        self.detached.pop(peer.gsnumber, None)
        newer = [e for e in peer.pending_states if e.lsid == peer.lsid and e.state.get("version", 0) > version]
        peer.pending_states = []
        if newer:
            peer.send(State(session=customer_view(newer[-1].state)))
        self._later("duty", self._send_duty)

    def remove(self, peer: Peer, *, detached: bool, grace: float = DETACH_GRACE_SECONDS) -> None:
        """A socket closed. `detached`: the client may come back (the connection stays for
        `grace` seconds)."""
        self.attaching.discard(peer)
        self.streams.forget(peer)
        for lsid in list(self.watchers):
            self.unwatch(peer, lsid)
        if isinstance(peer, ConsolePeer):
            self.consoles.discard(peer)
        if isinstance(peer, CustomerPeer) and self.customers.get(peer.lsid) is peer:
            del self.customers[peer.lsid]
        # A dropped peer's gsnumber may now be someone else's (numbers restart after the restored ones).
        if detached and not peer.dropped:
            self.detached[peer.gsnumber] = time.monotonic() + grace

    def expect(self, gsnumber: int, *, grace: float = DETACH_GRACE_SECONDS) -> None:
        """A connection made here over HTTP whose socket has not opened yet (a customer arriving
        in their browser, or through a downloaded launcher)."""
        self.detached.setdefault(gsnumber, time.monotonic() + grace)

    async def expire_detached(self) -> None:
        """Connections whose client did not come back within the grace period end: customers
        by the time their socket closed (any process's, before a restart too), the rest by
        this process's timers."""
        grace = (await self.runtime.settings())["customer_reconnect_seconds"]
        cutoff = utcnow() - timedelta(seconds=grace)
        if await self.runtime.db.read(connections.any_away_before, cutoff):
            await self.runtime.db.write(connections.expire_away_customers, cutoff)
        now = time.monotonic()
        for gsnumber, deadline in list(self.detached.items()):
            if deadline < now:
                del self.detached[gsnumber]
                await self.runtime.db.write(connections.expire_if_still_held, gsnumber, self.runtime.node_id)

    # --- live events -----------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        if isinstance(event, SessionEventAdded):
            watching = self.watchers.get(event.lsid, set())
            text = event_message(event.lsid, event.event)
            for peer in [*watching, *(p for p in self.attaching if p not in watching)]:
                peer.session_event(event.lsid, event.event, text)
        elif isinstance(event, SessionState):
            self._on_state(event)
        elif isinstance(event, SomeoneTyping):
            self._on_typing(event)
        elif isinstance(event, StampBumped) and event.name in (stamps.PRESENCE, stamps.DIRECTORY):
            self._later("reps", self._send_reps)
            self._later("duty", self._send_duty)
        elif isinstance(event, SignInsEnded) and any(peer.user_id == event.user_id for peer in self.consoles):
            self._later("sign-ins", self.close_signed_out_consoles)
        elif isinstance(event, BusResumed):
            self._spawn(self.resync())

    async def resync(self) -> None:
        """The other processes' live events of a while never came (the bus was away): send each
        socket what its sessions logged meanwhile, and every session state afresh."""
        peers = {lsid: list(watching) for lsid, watching in self.watchers.items()}
        # ... and those consoles list (one that ended meanwhile leaves their lists now).
        lsids = list(set(peers).union(*(console.known for console in self.consoles)))
        for lsid, watching in peers.items():
            for peer in watching:
                peer.hold(lsid)  # events arriving during the read wait for it, in order
        after = {
            lsid: min((p.last_event_id.get(lsid, 0) for p in watching), default=0) for lsid, watching in peers.items()
        }

        def read(session: Session) -> tuple[dict[str, list[dict[str, Any]]], list[SessionState]]:
            history: dict[str, list[dict[str, Any]]] = {}
            states: list[SessionState] = []
            for support_session in sessions_by_lsid(session, lsids):
                if support_session.lsid not in after:
                    states.append(
                        SessionState(support_session.lsid, support_session.id, session_state(session, support_session))
                    )
                    continue
                events = events_after(session, support_session, after[support_session.lsid])
                files = file_ids_by_event(session, [e.id for e in events])
                history[support_session.lsid] = [event_payload(e, files.get(e.id)) for e in events]
                states.append(
                    SessionState(support_session.lsid, support_session.id, session_state(session, support_session))
                )
            for waiting in waiting_sessions(session):
                states.append(SessionState(waiting.lsid, waiting.id, session_state(session, waiting)))
            return history, states

        try:
            history, states = await self.runtime.db.read(read)
        except Exception:
            log.exception("reading live state afresh after the bus came back failed")
            history, states = {}, []
        for lsid, watching in peers.items():
            for peer in watching:
                peer.catch_up(lsid, history.get(lsid, []))
        self.waiting = WaitingIndex()
        for state in states:
            self._on_state(state)
        self._later("reps", self._send_reps)
        self._later("duty", self._send_duty)

    def follows(self, peer: Peer, lsid: str) -> bool:
        """Whether this socket is in the session (a console that is a member, its customer)."""
        return peer in self.watchers.get(lsid, ())

    def consoles_in(self, lsid: str) -> list[ConsolePeer]:
        """The consoles on this process following the session."""
        return [peer for peer in self.watchers.get(lsid, ()) if isinstance(peer, ConsolePeer)]

    def _on_typing(self, event: SomeoneTyping) -> None:
        message = encode(
            Typing(lsid=event.lsid, who=Who(type=event.who, gsnumber=event.gsnumber, name=event.name))
        ).decode()
        for peer in self.watchers.get(event.lsid, ()):
            if peer.gsnumber != event.gsnumber:
                peer.send_text(message)

    def _on_state(self, event: SessionState) -> None:
        state = event.state
        changed_queues = self.waiting.apply(state)
        for console in list(self.consoles):
            if console.pending_states is not None:
                console.pending_states.append(event)
            else:
                self._console_state(console, event)
        customer = self.customers.get(event.lsid)
        if customer is not None:
            customer.send(State(session=customer_view(state)))
        for peer in self.attaching:
            if isinstance(peer, CustomerPeer):
                peer.pending_states.append(event)
        for queue in changed_queues:
            self._later(f"positions:{queue}", functools.partial(self._send_positions, queue))
        if changed_queues:
            self._later("duty", self._send_duty)

    def _spawn(self, job: Any) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _catch_up(self, peer: Peer, session_id: int, lsid: str) -> None:
        after = peer.last_event_id.get(lsid, 0)

        def read(session: Session) -> list[dict[str, Any]]:
            support_session = session.get(SupportSession, session_id)
            if support_session is None:
                return []
            events = events_after(session, support_session, after)
            files = file_ids_by_event(session, [e.id for e in events])
            return [event_payload(e, files.get(e.id)) for e in events]

        try:
            history = await self.runtime.db.read(read)
        except Exception:
            log.exception("catching up on session %s failed", lsid)
            history = []
        peer.catch_up(lsid, history)

    def _console_state(self, console: ConsolePeer, event: SessionState) -> None:
        state = event.state
        visible = console.may_see(state)
        if visible or event.lsid in console.known:
            console.send(SessionChanged(session=state))
            (console.known.add if visible else console.known.discard)(event.lsid)
        member = any(m["gsnumber"] == console.gsnumber for m in state["members"])
        if member and console not in self.watchers.get(event.lsid, ()):
            # Invited or took it: follow its events, starting with what it logged so far.
            console.hold(event.lsid)
            self.watch(console, [event.lsid])
            self._spawn(self._catch_up(console, event.session_id, event.lsid))
            self.followed(console, [event.lsid])
        elif not member and console in self.watchers.get(event.lsid, ()):
            self.unwatch(console, event.lsid)

    def _later(self, key: str, job: Callable[[], Any]) -> None:
        """Coalesce bursts: one refresh per key and delay, however many changes came in."""
        if key in self._pending:
            return

        def run() -> None:
            self._pending.pop(key, None)
            result = job()
            if asyncio.iscoroutine(result):
                self._spawn(result)

        self._pending[key] = asyncio.get_running_loop().call_later(REFRESH_DELAY, run)

    def _send_positions(self, queue: tuple[str, int]) -> None:
        for position, (_, lsid) in enumerate(self.waiting.line(queue), start=1):
            customer = self.customers.get(lsid)
            if customer is not None and customer.position != position:
                customer.position = position
                customer.send(Position(position=position))

    def position_of(self, lsid: str) -> int | None:
        return self.waiting.position_of(lsid)

    async def _send_duty(self) -> None:
        """Tell each waiting customer of this process whether anyone on duty could take their
        queue now: a session stays queued when the last rep leaves, and its customer is told."""
        waiting = [
            (peer, self.waiting.states[lsid]) for lsid, peer in self.customers.items() if lsid in self.waiting.states
        ]
        if not waiting:
            return
        duty = await self.runtime.db.read(on_duty)
        for peer, state in waiting:
            queue = state["queue"]
            covered = duty.covers(Queue(QueueKind(queue["kind"]), queue["id"] or 0, queue["name"]))
            if peer.on_duty is not covered:
                peer.on_duty = covered
                peer.send(Duty(on_duty=covered))

    async def _send_reps(self) -> None:
        if not self.consoles:
            return
        reps = await self.runtime.logged_in_reps()
        message = Reps(reps=[Rep(id=r.id, name=r.display_name, sessions=r.support_session_count) for r in reps])
        for console in list(self.consoles):
            console.send(message)


def customer_view(state: dict[str, Any]) -> SessionView:
    """What the customer's client is told about its session (no internal details)."""
    return SessionView(
        lsid=state["lsid"],
        status=state["status"],
        queue_name=state["queue"]["name"] if state["status"] == "waiting" else "",
        reps=[member["name"] for member in state["members"]],
    )
