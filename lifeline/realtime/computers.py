"""The customer's computer between the consoles and its Lifeline client, across appliance
processes.

The process that holds a session's client socket (its `Link`) does everything that touches
the client: it sends it requests, records shell output, logs what the client answers.
Consoles may be on any process: their requests travel on the bus (`ComputerAsked`) to the
holder, the answer comes back to the console's process by its gsnumber and ref
(`ComputerAnswered`), and what every console in the session should see goes to all
processes (`ComputerChanged`, `ComputerPushed`, `ShellOutput`). Shell output goes to the
consoles with `Peer.send_bytes`: every byte must arrive, so it never rides the stream
lanes, which skip frames.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from lifeline_protocol import ProtocolError
from lifeline_protocol import client as client_wire
from lifeline_protocol import console as console_wire
from lifeline_protocol.common import Ack, Gone, Who
from lifeline_protocol.computer import CAPABILITIES, MAX_SHELLS, Capability, Computer, TransferState
from lifeline_protocol.customer import Asked, ComputerView

from lifeline.clients import actions as clients
from lifeline.clients.live import TransferMoved
from lifeline.clients.shells import RecordedShell, close_abandoned
from lifeline.realtime.computer_events import (
    ClientReplaced,
    ComputerAnswered,
    ComputerAsked,
    ComputerChanged,
    ComputerPushed,
    ComputerWanted,
    ConsentFromPage,
    ShellOutput,
    ShellReplayed,
)
from lifeline.realtime.computer_link import Link, Pending
from lifeline.realtime.hub import ConsolePeer, Hub, Peer
from lifeline.recordings.store import RecordingStore
from lifeline.runtime import Runtime
from lifeline.sessions import activity
from lifeline.sessions.events import Actor, ActorType
from lifeline.sessions.live import SessionState
from lifeline.sessions.models import SessionError
from lifeline.sessions.queries import session_by_lsid

log = logging.getLogger("lifeline.realtime")

ANSWER_SECONDS = 30.0  # a console request the client has not answered by then fails
NOT_CONNECTED = "The customer's Lifeline client is not connected"
NO_ANSWER = "The customer's computer did not answer"
RECONNECTED = "The customer's computer reconnected before it answered; ask again"
NOT_IN_SESSION = "You are not in this session"


def not_allowed(capability: str) -> str:
    words = {"system_info": "system information", "shell": "a command shell", "files": "the file system"}
    return f"The customer has not allowed {words.get(capability, capability)}"


# --- every process -----------------------------------------------------------------------------


class Computers:
    """This process's part: the client sockets it holds, what it knows of every session's
    computer, and its consoles' requests waiting for an answer."""

    def __init__(self, runtime: Runtime, hub: Hub) -> None:
        self.runtime = runtime
        self.hub = hub
        self.links: dict[str, Link] = {}  # lsid -> the client socket held here
        self.states: dict[str, tuple[str, dict[str, Any]]] = {}  # lsid -> (link, state), all processes'
        self.waiting: dict[tuple[int, str], asyncio.TimerHandle] = {}  # (console gsnumber, ref)
        # (console gsnumber, ref) -> (lsid, link): the client socket a waiting request went to.
        self.sent_to: dict[tuple[int, str], tuple[str, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe = runtime.bus.subscribe(self.on_event)
        hub.on_follow.append(self.console_follows)
        # What the client says about its screen goes to realtime.screens (set there).
        self.screen_messages: Callable[[Link, Any], Awaitable[None]] | None = None

    def stop(self) -> None:
        self._unsubscribe()
        self.close_all()

    def close_all(self, code: int = 1000) -> None:
        """Every client socket here closes; the clients reconnect (and, after a restore, are
        told their session is gone)."""
        for link in list(self.links.values()):
            link.announce(connected=False)
            link.replaced = True  # said: its socket's end says nothing more
            link.release_shells()
            link.peer.close(code)
        self.links.clear()
        self.states.clear()

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what every process hears ---------------------------------------------------------

    def on_event(self, event: Any) -> None:
        if isinstance(event, ShellOutput):
            data = event.frame.encode("latin-1")
            for peer in self.hub.consoles_in(event.lsid):
                peer.send_bytes(data)
        elif isinstance(event, ComputerChanged):
            self._changed(event)
        elif isinstance(event, ComputerPushed):
            for peer in self.hub.consoles_in(event.lsid):
                peer.send_text(event.message)
        elif isinstance(event, TransferMoved):
            message = console_wire.TransferChanged(
                lsid=event.lsid, transfer=msgspec.convert(event.transfer, TransferState)
            )
            for peer in self.hub.consoles_in(event.lsid):
                peer.send(message)
        elif isinstance(event, ComputerAnswered):
            self._answered(event)
        elif isinstance(event, ShellReplayed):
            console = self._console(event.gsnumber)
            if console is not None:
                for frame in event.frames:
                    console.send_bytes(frame.encode("latin-1"))
            self._answered(ComputerAnswered(event.gsnumber, event.ref, True, None))
        elif isinstance(event, ComputerAsked):
            link = self.links.get(event.lsid)
            if link is not None:
                self._enqueue(link, event)
        elif isinstance(event, ConsentFromPage):
            link = self.links.get(event.lsid)
            if link is not None and event.capability in CAPABILITIES:
                capability: Capability = event.capability
                link.peer.send(client_wire.ConsentAnswer(capability=capability, allowed=event.allowed))
        elif isinstance(event, ComputerWanted):
            link = self.links.get(event.lsid)
            if link is not None:
                link.announce()
        elif isinstance(event, SessionState) and event.state.get("status") == "ended":
            link = self.links.get(event.lsid)
            if link is not None:
                self._spawn(self._session_ended(link))
            else:
                self._spawn(self._close_abandoned(event.session_id))
        elif isinstance(event, ClientReplaced):
            link = self.links.get(event.lsid)
            if link is not None and link.id != event.link:
                self.replace(link)

    async def _session_ended(self, link: Link) -> None:
        """The session is over: its shells' recordings are complete, and the client stops."""
        if self.links.get(link.lsid) is link:
            del self.links[link.lsid]
        link.replaced = True  # nothing more to say about this computer
        for number in list(link.shells):
            shell = link.shells.pop(number)
            await self.runtime.db.write(clients.finish_shell, number, shell.finish())
        link.peer.send(Gone(error="This support session is over."))
        link.peer.close(4410)
        self.states.pop(link.lsid, None)

    async def _close_abandoned(self, session_id: int) -> None:
        """The session ended with no client here: shells still open nobody will take up
        again; their recordings end at their last commit (any process may do it, once)."""
        store = RecordingStore(self.runtime.config.recordings_dir)
        for shell in await self.runtime.db.read(clients.open_shells, session_id):
            size = await asyncio.to_thread(close_abandoned, store, shell.storage_name)
            if size is not None:
                await self.runtime.db.write(clients.finish_shell, shell.shell, size)

    def replace(self, link: Link) -> None:
        """A newer socket of the same client took over: this one closes and lets go."""
        link.replaced = True
        if self.links.get(link.lsid) is link:
            del self.links[link.lsid]
        link.release_shells()
        link.peer.close(4409, "another client socket took over")

    def _console(self, gsnumber: int) -> ConsolePeer | None:
        return next((peer for peer in self.hub.consoles if peer.gsnumber == gsnumber), None)

    def _changed(self, event: ComputerChanged) -> None:
        state = event.state
        known = self.states.get(event.lsid)
        if not state["connected"]:
            if known is not None and known[0] != event.link:
                return  # a socket that was replaced: the newer one speaks for the computer
            self.states.pop(event.lsid, None)
        else:
            self.states[event.lsid] = (event.link, state)
            self._came_back(event.lsid, event.link)
        message = computer_state(event.lsid, state)
        for peer in self.hub.consoles_in(event.lsid):
            peer.send(message)
        customer = self.hub.customers.get(event.lsid)
        if customer is not None:
            customer.send(computer_view(state))

    def _came_back(self, lsid: str, link: str) -> None:
        """The client speaks through a new socket (its node died, or it reconnected): what
        was sent to the old one gets no answer, so the console is told now rather than after
        ANSWER_SECONDS; asked again, the request goes to the new socket."""
        for key, (asked_lsid, asked_link) in list(self.sent_to.items()):
            if asked_lsid == lsid and asked_link != link:
                self._answered(ComputerAnswered(key[0], key[1], False, None, RECONNECTED))

    def console_follows(self, peer: Peer, lsid: str) -> None:
        """A console now in the session (attached, took it, invited): the computer's state."""
        known = self.states.get(lsid)
        if known is not None:
            peer.send(computer_state(lsid, known[1]))
        else:
            self.runtime.bus.publish_local(ComputerWanted(lsid))

    def customer_view(self, lsid: str) -> ComputerView:
        known = self.states.get(lsid)
        return computer_view(known[1]) if known else ComputerView(connected=False)

    # -- a console's request, on the console's process --------------------------------------

    def ask(self, peer: ConsolePeer, rep_name: str, request: Any) -> Ack | None:
        """Check what can be checked here, and send the request to the holder. None: the
        answer comes later (through `_answered`)."""
        lsid: str = getattr(request, "lsid")  # noqa: B009 (every computer request has one)
        ref: str | None = request.ref
        if not self.hub.follows(peer, lsid):
            return Ack.failed(ref, NOT_IN_SESSION)
        known = self.states.get(lsid)
        if known is None:
            return Ack.failed(ref, NOT_CONNECTED)
        needed = capability_of(request)
        if needed is not None and needed not in known[1]["allowed"]:
            return Ack.failed(ref, not_allowed(needed))
        self.expect_answer(peer.gsnumber, ref)
        if ref is not None:
            self.sent_to[(peer.gsnumber, ref)] = (lsid, known[0])
        self.runtime.bus.publish_local(ComputerAsked(lsid, peer.gsnumber, rep_name, ref, msgspec.to_builtins(request)))
        return None

    def expect_answer(self, gsnumber: int, ref: str | None) -> None:
        """A console's request went to another process: its answer (ComputerAnswered) or,
        after ANSWER_SECONDS, a failure goes back to the console."""
        if ref is None:
            return
        key = (gsnumber, ref)
        old = self.waiting.pop(key, None)
        if old is not None:
            old.cancel()
        self.waiting[key] = asyncio.get_running_loop().call_later(
            ANSWER_SECONDS, self._answered, ComputerAnswered(gsnumber, ref, False, None, NO_ANSWER)
        )

    def _answered(self, event: ComputerAnswered) -> None:
        if event.ref is None:
            if not event.ok:  # a refused signal (shell input): say so without a ref
                console = self._console(event.gsnumber)
                if console is not None:
                    console.send(Ack.failed(None, event.error))
            return
        self.sent_to.pop((event.gsnumber, event.ref), None)
        timer = self.waiting.pop((event.gsnumber, event.ref), None)
        if timer is None:
            return  # not this process's console, or answered already (timed out)
        timer.cancel()
        console = self._console(event.gsnumber)
        if console is not None:
            console.send(Ack.done(event.ref, event.result) if event.ok else Ack.failed(event.ref, event.error))

    # -- a console's request, on the holder ------------------------------------------------

    def _enqueue(self, link: Link, event: ComputerAsked) -> None:
        try:
            link.inbox.put_nowait(event)
        except asyncio.QueueFull:
            link.answer(event.gsnumber, event.ref, error="The customer's computer is busy; try again")
            return
        if link.worker is None or link.worker.done():
            link.worker = asyncio.ensure_future(self._work(link))

    async def _work(self, link: Link) -> None:
        while not link.inbox.empty():
            await self._handle(link, link.inbox.get_nowait())

    async def _handle(self, link: Link, event: ComputerAsked) -> None:
        try:
            request = msgspec.convert(event.request, console_wire.ConsoleRequest)
            await self._do(link, event, request)
        except SessionError as error:
            link.answer(event.gsnumber, event.ref, error=str(error))
        except Exception:
            log.exception("a computer request failed")
            link.answer(event.gsnumber, event.ref, error="internal error; logged")

    async def _do(self, link: Link, event: ComputerAsked, request: Any) -> None:
        gsnumber, ref = event.gsnumber, event.ref
        needed = capability_of(request)
        if needed is not None and needed not in link.allowed:
            link.answer(gsnumber, ref, error=not_allowed(needed))
            return
        if isinstance(request, console_wire.ComputerAsk):
            link.asked[request.capability] = event.rep_name
            link.peer.send(
                client_wire.Ask(
                    capability=request.capability,
                    rep=Who(type="representative", gsnumber=gsnumber, name=event.rep_name),
                )
            )
            link.announce()
            link.answer(gsnumber, ref, result=None)
        elif isinstance(request, console_wire.ComputerInfo):
            number = link.request_id(Pending("system_info", gsnumber, ref))
            link.peer.send(client_wire.GetSystemInfo(request=number))
        elif isinstance(request, console_wire.ComputerList):
            number = link.request_id(Pending("list", gsnumber, ref))
            link.peer.send(client_wire.ListFolder(request=number, path=request.path))
        elif isinstance(request, console_wire.ShellOpen):
            await self._open_shell(link, event, request)
        elif isinstance(request, console_wire.ShellType):
            shell = link.shells.get(request.shell)
            if shell is None:
                link.answer(gsnumber, ref, error=f"No shell {request.shell} is open in this session")
                return
            await self._require_rep(link, gsnumber)
            shell.input(request.data)
            link.touch(request.shell)
            link.peer.send(client_wire.ShellInput(shell=request.shell, data=request.data))
        elif isinstance(request, console_wire.ShellSize):
            shell = link.shells.get(request.shell)
            if shell is None:
                link.answer(gsnumber, ref, error=f"No shell {request.shell} is open in this session")
                return
            shell.resize(request.cols, request.rows)
            link.peer.send(client_wire.ShellResize(shell=request.shell, cols=request.cols, rows=request.rows))
            link.answer(gsnumber, ref, result=None)
        elif isinstance(request, console_wire.ShellClose):
            if request.shell not in link.shells:
                link.answer(gsnumber, ref, error=f"No shell {request.shell} is open in this session")
                return
            link.peer.send(client_wire.CloseShell(shell=request.shell))
            link.answer(gsnumber, ref, result=None)
        elif isinstance(request, console_wire.ShellReplay):
            shell = link.shells.get(request.shell)
            if shell is None:
                link.answer(gsnumber, ref, error=f"No shell {request.shell} is open in this session")
                return
            frames = [frame.decode("latin-1") for frame in shell.replay]
            self.runtime.bus.publish_local(ShellReplayed(gsnumber, ref, frames))
        elif isinstance(request, console_wire.ProcessEnd):
            number = link.request_id(Pending("process_end", gsnumber, ref, {"pid": request.pid, "rep": event.rep_name}))
            link.peer.send(client_wire.EndProcess(request=number, pid=request.pid))
        elif isinstance(request, console_wire.FileGet):
            transfer = await self.runtime.db.write(clients.new_download, link.lsid, gsnumber, request.path)
            number = link.request_id(Pending("file_get", gsnumber, None, {"transfer": transfer["id"]}))
            link.peer.send(client_wire.SendFile(request=number, transfer=str(transfer["id"]), path=request.path))
            link.answer(gsnumber, ref, result=transfer)
        elif isinstance(request, console_wire.FilePut):
            transfer = await self.runtime.db.write(
                clients.new_upload, link.lsid, gsnumber, request.file_id, request.path, request.folders
            )
            number = link.request_id(Pending("file_put", gsnumber, None, {"transfer": transfer["id"]}))
            link.peer.send(
                client_wire.FetchFile(
                    request=number,
                    transfer=str(transfer["id"]),
                    path=request.path,
                    name=str(transfer["name"]),
                    size=int(str(transfer["size"])),
                    folders=request.folders,
                )
            )
            link.answer(gsnumber, ref, result=transfer)

    async def _require_rep(self, link: Link, gsnumber: int) -> None:
        """Shell input is checked on the holder too (the rep may have left meanwhile); cached
        per shell and rep would be faster, but keystrokes are few."""
        if not any(p.gsnumber == gsnumber for p in self.hub.consoles_in(link.lsid)):
            await self.runtime.db.read(clients.rep_in_session, link.lsid, gsnumber)

    async def _open_shell(self, link: Link, event: ComputerAsked, request: console_wire.ShellOpen) -> None:
        if len(link.shells) >= MAX_SHELLS:
            link.answer(event.gsnumber, event.ref, error=f"At most {MAX_SHELLS} shells are open at once")
            return
        started = await self.runtime.db.write(clients.start_shell, link.lsid, event.gsnumber)
        if link.replaced or link.gone:  # the client reconnected meanwhile: its new socket has the shell to take up
            link.answer(event.gsnumber, event.ref, error="The customer's Lifeline client reconnected; try again")
            return
        shell = RecordedShell(
            RecordingStore(self.runtime.config.recordings_dir),
            started.shell,
            started.storage_name,
            started.started_at,
            width=request.cols,
            height=request.rows,
        )
        link.shells[started.shell] = shell
        number = link.request_id(Pending("open_shell", event.gsnumber, event.ref, {"shell": started.shell}))
        link.peer.send(client_wire.OpenShell(request=number, shell=started.shell, cols=request.cols, rows=request.rows))
        link.announce()

    # -- what the client says, on the holder -------------------------------------------------

    async def from_client(self, link: Link, message: client_wire.FromClient) -> None:
        if isinstance(message, client_wire.Consent):
            how = "asked"
            await self.runtime.db.write(
                clients.record_consent, link.session_id, link.gsnumber, message.capability, message.allowed, how
            )
            (link.allowed.add if message.allowed else link.allowed.discard)(message.capability)
            link.asked.pop(message.capability, None)
            # Taken back: the client closes what it had open (each shell says shell_exit).
            link.announce()
        elif isinstance(message, client_wire.SystemInfo):
            await self._system_info(link, message)
        elif isinstance(message, client_wire.FolderListing):
            pending = link.requests.pop(message.request, None)
            if pending is not None:
                link.answer(pending.gsnumber, pending.ref, result=msgspec.to_builtins(message.listing))
        elif isinstance(message, client_wire.Done):
            await self._done(link, message)
        elif isinstance(message, client_wire.Failed):
            await self._failed(link, message)
        elif isinstance(message, client_wire.ShellExit):
            await link.end_shell(message.shell, message.code)
        elif self.screen_messages is not None:  # screen_started, screen_stopped, clipboard
            await self.screen_messages(link, message)

    async def _system_info(self, link: Link, message: client_wire.SystemInfo) -> None:
        if "system_info" not in link.allowed:
            log.warning("session %s: system information the customer has not allowed was refused", link.lsid)
            raise ProtocolError(not_allowed("system_info"))
        automatic = message.request is None
        if automatic:
            if not link.system_info_wanted:
                return  # logged already (a reconnect sends it again)
            try:
                logged = await self.runtime.db.write(
                    clients.record_automatic_info, link.session_id, link.gsnumber, message.categories
                )
            except SessionError as error:
                raise ProtocolError(str(error)) from None
            link.system_info_wanted = False
            if not logged:
                return
        else:
            assert message.request is not None
            pending = link.requests.pop(message.request, None)
            if pending is None:
                return
            link.answer(pending.gsnumber, pending.ref, result=None)
        link.push(
            console_wire.SystemInfoPushed(
                lsid=link.lsid, categories=message.categories, at=time.time(), automatic=automatic
            )
        )

    async def _done(self, link: Link, message: client_wire.Done) -> None:
        pending = link.requests.pop(message.request, None)
        if pending is None:
            return
        if pending.kind == "open_shell":
            link.answer(pending.gsnumber, pending.ref, result={"shell": pending.detail["shell"]})
        elif pending.kind == "process_end":
            await self.runtime.db.write(_log_process_end, link.lsid, pending.gsnumber, pending.detail["pid"])
            link.answer(pending.gsnumber, pending.ref, result=None)
        elif pending.kind == "file_put":
            where = ""
            if isinstance(message.result, dict) and isinstance(message.result.get("path"), str):
                where = message.result["path"]
            await self.runtime.db.write(clients.finish_upload, pending.detail["transfer"], where)
        else:
            link.answer(pending.gsnumber, pending.ref, result=message.result)

    async def _failed(self, link: Link, message: client_wire.Failed) -> None:
        pending = link.requests.pop(message.request, None)
        if pending is None:
            return
        if pending.kind == "open_shell":
            shell = link.shells.pop(pending.detail["shell"], None)
            if shell is not None:
                size = shell.finish()
                await self.runtime.db.write(clients.finish_shell, pending.detail["shell"], size)
            link.announce()
        if pending.kind in ("file_get", "file_put"):
            await self.runtime.db.write(clients.fail_transfer, pending.detail["transfer"], message.error)
        if pending.kind == "screen_start" and self.screen_messages is not None:
            await self.screen_messages(link, message)
        link.answer(pending.gsnumber, pending.ref, error=message.error)


def _log_process_end(session: Any, lsid: str, gsnumber: int, pid: int) -> None:
    """A rep ended a process on the customer's computer: the spec has no event of its own for
    it, so it is a session note by that rep ("Session Note Added")."""
    rep = clients.rep_in_session(session, lsid, gsnumber)
    support_session = session_by_lsid(session, lsid)
    assert support_session is not None
    actor = Actor(ActorType.REPRESENTATIVE, rep.gsnumber, rep.name, rep.user_id)
    activity.add_note(session, support_session, actor, f"Ended process {pid} on the customer's computer.")


def capability_of(request: Any) -> str | None:
    """What the customer must have allowed for this request (None: asking needs nothing)."""
    if isinstance(request, console_wire.ComputerAsk):
        return None
    if isinstance(request, console_wire.ComputerInfo | console_wire.ProcessEnd):
        return "system_info"
    if isinstance(request, console_wire.ComputerList | console_wire.FileGet | console_wire.FilePut):
        return "files"
    return "shell"


def computer_state(lsid: str, state: dict[str, Any]) -> console_wire.ComputerState:
    return console_wire.ComputerState(
        lsid=lsid,
        connected=state["connected"],
        computer=msgspec.convert(state["computer"], Computer) if state.get("computer") else None,
        allowed=state["allowed"],
        asked=state["asked"],
        shells=state["shells"],
    )


def computer_view(state: dict[str, Any]) -> ComputerView:
    return ComputerView(
        connected=state["connected"],
        allowed=state["allowed"],
        asked=[Asked(capability=a["capability"], rep=a["rep"]) for a in state.get("asked_by", [])],
    )


ConsoleComputerRequest = (
    console_wire.ComputerAsk
    | console_wire.ComputerInfo
    | console_wire.ComputerList
    | console_wire.ShellOpen
    | console_wire.ShellType
    | console_wire.ShellSize
    | console_wire.ShellClose
    | console_wire.ShellReplay
    | console_wire.ProcessEnd
    | console_wire.FileGet
    | console_wire.FilePut
)
COMPUTER_REQUESTS: tuple[type, ...] = ConsoleComputerRequest.__args__
