"""The client socket (`/ws/client`): hello and welcome, reconnecting on any drop, the
representatives' requests dispatched, and the customer's consent enforced on each one.
A request for a capability the customer has not allowed is refused here, whatever the
appliance let through; a message the protocol does not know is refused with a logged error."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lifeline_protocol import VERSION, ProtocolError, decode_to_client, encode
from lifeline_protocol import client as wire
from lifeline_protocol.close import CloseCode
from lifeline_protocol.common import HELLO_TIMEOUT, Ack, Error, Gone, Message, Pong
from lifeline_protocol.computer import MAX_SHELLS, Capability, Computer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from lifeline_client import clipboard, control, files, screen, sysinfo
from lifeline_client.consent import Consent
from lifeline_client.errors import ClientError
from lifeline_client.follow import Appliances, follow_wait
from lifeline_client.reconnect import Backoff, received_close
from lifeline_client.shell import Shell
from lifeline_client.start import Site, Target

log = logging.getLogger(__name__)

OPEN_TIMEOUT = 20.0  # seconds to connect and upgrade
MAX_BUSY = 16  # requests worked on at once; more are refused
CLIPBOARD_POLL = 1.0  # seconds between looks at the customer's clipboard (while control is allowed)
STOP_CODES = {
    CloseCode.GONE: "The support session is over.",
    CloseCode.REPLACED: "Another Lifeline client took over this session.",
}


# Starts a shell's program on a terminal of cols x rows; OSError (in words) when it cannot.
ShellMaker = Callable[[Shell, int, int], Awaitable[None]]


async def pty_shell(shell: Shell, cols: int, rows: int) -> None:
    """The customer's own shell, on a pseudo-terminal of this computer."""
    shell.start(cols, rows)


class Stopped(Exception):
    """The appliance said not to come back (gone, replaced, a hello it refused)."""


class ClientSocket:
    def __init__(
        self,
        target: Target,
        context: ssl.SSLContext,
        consent: Consent,
        *,
        flag: bool,
        make_computer: Callable[[str], Computer],
        say: Callable[[str], None],
        ask: Callable[[Capability, str], None],
        withdraw: Callable[[Capability], None],
        make_shell: ShellMaker = pty_shell,
    ) -> None:
        self.target = target
        self.appliances = Appliances(target.site)
        self._make_shell = make_shell
        self._opening: set[int] = set()  # shells whose program is still starting
        self.context = context
        self.consent = consent
        self.flag = flag
        self._make_computer = make_computer
        self._say = say
        self._ask = ask
        self._withdraw = withdraw
        self.shells: dict[int, Shell] = {}
        self.transfers = files.Transfers(target.site, context, target.token)
        self.welcome: wire.Welcome | None = None
        self.connected = asyncio.Event()  # set while welcomed
        self._outbox: asyncio.Queue[str | bytes] | None = None
        self._tasks: dict[asyncio.Task[None], Capability | None] = {}
        self._unsent_consent: dict[Capability, bool] = {}
        self._auto_info_wanted = False
        self._auto_info_sent = False
        self._stopping = False
        self._ws: ClientConnection | None = None
        self.share: screen.Share | None = None
        self._screen_frames: deque[bytes] = deque()  # the share's frames waiting in the outbox, in order
        self._injector: control.Injector | None = None
        self._controlled = False  # a rep's input came during this share (the customer was told)
        self._input_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="control")  # in order
        self._clipboard: clipboard.Clipboard | None = None
        self._clipboard_opened = False
        self._clipboard_lock = threading.Lock()
        self._clipboard_seen: str | None = None  # the text last copied or set: only changes are sent
        self._clipboard_poll: asyncio.Task[None] | None = None
        self._told: Site | None = None  # the primary a backup named when it closed (4421)

    @property
    def url(self) -> str:
        return f"wss://{self.target.site.host}:{self.target.site.port}/ws/client"

    def _go_to(self, site: Site) -> None:
        """Connect to `site` from now on (the failover pair's other appliance): same session,
        same token, same trust."""
        if site != self.target.site:
            self.target = Target(site, self.target.token)
            self.transfers = files.Transfers(site, self.context, self.target.token)

    # --- the connection's life ---------------------------------------------------------------

    async def run(self) -> str:
        """Connect, and connect again after every drop, until told to stop; returns why."""
        backoff = Backoff()
        ever_welcomed = False
        while not self._stopping:
            welcomed = False
            try:
                async with connect(
                    self.url,
                    ssl=self.context,
                    server_hostname=self.target.site.server_hostname,
                    open_timeout=OPEN_TIMEOUT,
                    # 64 KiB of text, but a shell_input of control keys escapes to six times its size.
                    max_size=wire.MAX_CLIENT_MESSAGE,
                    user_agent_header="lifeline-client",
                ) as ws:
                    if await self._session(ws):
                        ever_welcomed = welcomed = True
                        backoff.reset()
                        if not self._stopping:
                            self._say("The connection to the support site dropped; reconnecting...")
            except Stopped as stop:
                return str(stop)
            except ssl.SSLCertVerificationError as error:
                raise ClientError(f"{self.target.site.origin} is not trusted: {error.verify_message}") from None
            except InvalidStatus as error:
                log.warning("the appliance refused the client socket (%d); trying again", error.response.status_code)
            except (OSError, InvalidHandshake, TimeoutError, ConnectionClosed) as error:
                log.info("connection to the appliance lost: %s", error or type(error).__name__)
            told, self._told = self._told, None
            if told is not None:
                self._go_to(told)
            elif not welcomed:
                self._go_to(self.appliances.next())  # no answer here: the other appliance (if any) next
            wait = follow_wait() if told is not None and not welcomed else backoff.next()
            if ever_welcomed:
                log.info("reconnecting in %.1f s", wait)
            await asyncio.sleep(wait)
        return "Closed."

    async def stop(self) -> None:
        """The customer closes the client: say bye, hang up the shells."""
        self._stopping = True
        if self._ws is not None and self.connected.is_set():
            try:
                await asyncio.wait_for(self._ws.send(encode(wire.Bye()).decode()), 2)
                await asyncio.wait_for(self._ws.close(), 2)
            except (ConnectionClosed, TimeoutError, OSError):
                pass
        for shell in list(self.shells.values()):
            shell.close()
        for task in list(self._tasks):
            task.cancel()
        self._stop_share()
        self._stop_clipboard_poll()
        self._input_thread.shutdown(wait=False, cancel_futures=True)

    async def _session(self, ws: ClientConnection) -> bool:
        """One connection: hello, welcome, then messages until it drops. Whether welcomed."""
        self._ws = ws
        local = ws.local_address[0] if ws.local_address else ""
        hello = wire.Hello(
            token=self.target.token,
            computer=self._make_computer(str(local)),
            allowed=sorted(self.consent.allowed),
            flag=self.flag,
            version=VERSION,
        )
        try:
            # A backup may close (4421) before the hello is out: that close says where to go too.
            await ws.send(encode(hello).decode())
            first = await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT)
        except TimeoutError:
            log.warning("the appliance did not answer the hello in %.0f s", HELLO_TIMEOUT)
            return False
        except ConnectionClosed:
            self._stop_if_told(ws)
            raise
        welcome = self._decode(first)
        if isinstance(welcome, Gone):
            raise Stopped(welcome.error or STOP_CODES[CloseCode.GONE])
        if not isinstance(welcome, wire.Welcome):
            log.warning("refused: the appliance's first message was not a welcome")
            return False
        outbox: asyncio.Queue[str | bytes] = asyncio.Queue()
        self._welcomed(welcome, outbox)
        writer = asyncio.get_running_loop().create_task(self._write(ws, outbox))
        try:
            async for raw in ws:
                self._receive(raw)
        except ConnectionClosed:
            pass
        finally:
            self.connected.clear()
            self._outbox = None
            writer.cancel()
            self._stop_share()  # a share lives as long as its connection; the appliance asks again
        self._stop_if_told(ws)
        return True

    def _stop_if_told(self, ws: ClientConnection) -> None:
        code, reason = received_close(ws)
        if code == CloseCode.NOT_PRIMARY:
            self._told = self.appliances.told(reason)
            self._say("This appliance is now the backup; connecting to the primary...")
        if code in STOP_CODES:
            raise Stopped(STOP_CODES[CloseCode(code)])
        if code == CloseCode.BAD_HELLO:
            raise Stopped(f"The appliance refused this client: {reason or 'bad hello'}")

    def _welcomed(self, welcome: wire.Welcome, outbox: asyncio.Queue[str | bytes]) -> None:
        """Everything the appliance has not recorded goes first, in order, before any new
        output: done without a pause, so no frame can overtake another."""
        first = self.welcome is None
        self.welcome = welcome
        if welcome.appliances:
            self.appliances.learn(welcome.appliances)
        for number, shell in list(self.shells.items()):
            recorded = welcome.shells.get(str(number))
            if recorded is None:
                log.info("shell %d is no longer open on the appliance: closing it", number)
                shell.forget()
                del self.shells[number]
                continue
            for frame in shell.frames_after(recorded):
                outbox.put_nowait(frame)
            if shell.exited:
                outbox.put_nowait(encode(wire.ShellExit(shell=number, code=shell.exit_code)).decode())
        for capability, allowed in self._unsent_consent.items():
            outbox.put_nowait(encode(wire.Consent(capability=capability, allowed=allowed)).decode())
        self._unsent_consent.clear()
        self._outbox = outbox
        self.connected.set()
        # Wanted still: the last one may have been lost with the connection (the appliance
        # logs it once whatever it gets).
        self._auto_info_wanted = welcome.system_info
        self._auto_info_sent = False
        self._maybe_send_auto_info()
        self._start_clipboard_poll()
        if first:
            self._say(f"Connected to the support session of {welcome.company or 'the support site'}.")
        else:
            self._say("Reconnected.")

    async def _write(self, ws: ClientConnection, outbox: asyncio.Queue[str | bytes]) -> None:
        try:
            while True:
                item = await outbox.get()
                await ws.send(item)
                if self._screen_frames and item is self._screen_frames[0]:
                    self._screen_frames.popleft()
                    if self.share is not None:
                        self.share.written()
        except ConnectionClosed:
            pass

    def send(self, message: Message) -> None:
        """Send now, or drop it if the connection is down (the appliance fails requests that
        were open when a connection dropped)."""
        if self._outbox is None:
            log.debug("not connected: %s dropped", type(message).__name__)
            return
        self._outbox.put_nowait(encode(message).decode())

    # --- reading ------------------------------------------------------------------------------

    def _decode(self, raw: str | bytes) -> Any:
        if isinstance(raw, bytes):
            log.error("refused a binary frame from the appliance: the client expects none")
            return None
        try:
            return decode_to_client(raw)
        except ProtocolError as error:
            log.error("refused a message from the appliance: %s", error)
            return None

    def _receive(self, raw: str | bytes) -> None:
        message = self._decode(raw)
        if message is None:
            return
        try:
            self._dispatch(message)
        except Exception:
            log.exception("could not act on %s", type(message).__name__)

    def _dispatch(self, message: Any) -> None:
        if (request := getattr(message, "request", None)) is not None:
            log.info("%s (request %s)", message.__struct_config__.tag, request)
        match message:
            case wire.Ask(capability=capability, rep=rep):
                self._asked(capability, rep.name or "A representative")
            case wire.ConsentAnswer(capability=capability, allowed=allowed):
                self.decide(capability, allowed, answered_here=False)
            case wire.GetSystemInfo(request=request):
                self._start(request, "system_info", self._system_info(request))
            case wire.EndProcess(request=request, pid=pid):
                self._start(request, "system_info", self._end_process(request, pid))
            case wire.ListFolder(request=request, path=path):
                self._start(request, "files", self._list(request, path))
            case wire.SendFile(request=request, transfer=transfer, path=path):
                self._start(request, "files", self._send_file(request, transfer, path))
            case wire.FetchFile(request=request, transfer=transfer, path=path, name=name, size=size, folders=folders):
                self._start(request, "files", self._fetch_file(request, transfer, path, name, size, folders))
            case wire.OpenShell(request=request, shell=number, cols=cols, rows=rows):
                self._open_shell(request, number, cols, rows)
            case wire.ShellInput(shell=number, data=data):
                if shell := self._allowed_shell(number, "shell_input"):
                    shell.write(data)
            case wire.ShellResize(shell=number, cols=cols, rows=rows):
                if shell := self._allowed_shell(number, "shell_resize"):
                    shell.resize(cols, rows)
            case wire.CloseShell(shell=number):
                if shell := self.shells.get(number):
                    shell.close()
            case wire.ShellAck(shell=number, sequence=sequence):
                self._acked(number, sequence)
            case wire.StartScreen(request=request, stream=stream):
                self._start_screen(request, stream, screen.Settings.of(message))
            case wire.StopScreen(stream=stream):
                if self.share is not None and self.share.stream == stream:
                    self._stop_share()
            case wire.KeyFrame(stream=stream):
                if self.share is not None and self.share.stream == stream:
                    self.share.key_frame()
            case wire.ScreenInput(stream=stream, events=events):
                self._screen_input(stream, events)
            case wire.SetClipboard(text=text):
                self._set_clipboard(text)
            case Gone(error=error):
                log.info("the appliance says the session is over: %s", error)
            case Error(error=error):
                log.error("the appliance could not read a message of ours: %s", error)
            case wire.Welcome() | Ack() | Pong():
                pass

    # --- consent ------------------------------------------------------------------------------

    def _asked(self, capability: Capability, rep: str) -> None:
        if self.consent.allows(capability):
            self.send(wire.Consent(capability=capability, allowed=True))
            return
        if self.consent.ask(capability, rep):
            self._ask(capability, rep)

    def decide(self, capability: Capability, allowed: bool, *, answered_here: bool) -> None:
        """An answer of the customer's, from this terminal or (relayed) the browser page."""
        asked = capability in self.consent.asked
        if not self.consent.answer(capability, allowed, here=answered_here):
            return
        if asked and not answered_here:
            self._withdraw(capability)
        message = wire.Consent(capability=capability, allowed=allowed)
        if self._outbox is None:
            self._unsent_consent[capability] = allowed
        self.send(message)
        verb = "allowed" if allowed else ("denied" if asked else "taken back")
        self._say(f"{capability.replace('_', ' ').capitalize()}: {verb}.")
        if allowed:
            self._maybe_send_auto_info()
            self._start_clipboard_poll()
        else:
            self._taken_back(capability)

    def _taken_back(self, capability: Capability) -> None:
        if capability == "screen":
            self._stop_share()
        if capability == "control":
            self._stop_clipboard_poll()
        if capability == "control" and self._controlled:
            self._controlled = False
            self._say("You have taken back control of your mouse and keyboard.")
        if capability == "shell":
            for shell in self.shells.values():
                shell.close()
        for task, needs in list(self._tasks.items()):
            if needs == capability:
                task.cancel()

    # --- requests -----------------------------------------------------------------------------

    def _start(self, request: str, capability: Capability, work: Coroutine[Any, Any, None]) -> None:
        if not self.consent.allows(capability):
            work.close()
            log.warning("refused a request: %s", self.consent.refusal(capability))
            self.send(wire.Failed(request=request, error=self.consent.refusal(capability)))
            return
        if len(self._tasks) >= MAX_BUSY:
            work.close()
            self.send(wire.Failed(request=request, error="The client is busy; try again shortly."))
            return
        task = asyncio.get_running_loop().create_task(self._guarded(request, work))
        self._tasks[task] = capability
        task.add_done_callback(lambda done: self._tasks.pop(done, None))

    async def _guarded(self, request: str, work: Awaitable[None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            self.send(wire.Failed(request=request, error="The customer took it back."))
        except files.FileError as error:
            self.send(wire.Failed(request=request, error=str(error)[:1024]))
        except Exception as error:
            log.exception("a request failed")
            self.send(wire.Failed(request=request, error=f"The client could not do it: {error}"[:1024]))

    def _maybe_send_auto_info(self) -> None:
        """The pull at session start: once, when wanted and allowed."""
        if self._auto_info_wanted and not self._auto_info_sent and self.consent.allows("system_info") and self._outbox:
            self._auto_info_sent = True
            task = asyncio.get_running_loop().create_task(self._auto_info())
            self._tasks[task] = "system_info"
            task.add_done_callback(lambda done: self._tasks.pop(done, None))

    async def _auto_info(self) -> None:
        categories = await asyncio.to_thread(sysinfo.gather, wire.MAX_CLIENT_MESSAGE - 4096)
        self.send(wire.SystemInfo(request=None, categories=categories))

    async def _system_info(self, request: str) -> None:
        categories = await asyncio.to_thread(sysinfo.gather, wire.MAX_CLIENT_MESSAGE - 4096)
        self.send(wire.SystemInfo(request=request, categories=categories))

    async def _end_process(self, request: str, pid: int) -> None:
        problem = await asyncio.to_thread(sysinfo.end_process, pid)
        self.send(wire.Done(request=request) if problem is None else wire.Failed(request=request, error=problem))

    async def _list(self, request: str, path: str | None) -> None:
        listing = files.fit(await asyncio.to_thread(files.list_folder, path), wire.MAX_CLIENT_MESSAGE - 4096)
        self.send(wire.FolderListing(request=request, listing=listing))

    async def _send_file(self, request: str, transfer: str, path: str) -> None:
        stop = False
        try:
            result = await asyncio.to_thread(files.send, self.transfers, transfer, path, lambda: stop)
        except asyncio.CancelledError:
            stop = True  # the thread sees it before its next chunk
            raise
        self.send(wire.Done(request=request, result=result))

    async def _fetch_file(self, request: str, transfer: str, path: str, name: str, size: int, folders: str) -> None:
        stop = False
        try:
            result = await asyncio.to_thread(
                files.fetch, self.transfers, transfer, path, name, size, lambda: stop, folders
            )
        except asyncio.CancelledError:
            stop = True
            raise
        self.send(wire.Done(request=request, result=result))

    # --- shells -------------------------------------------------------------------------------

    def _open_shell(self, request: str, number: int, cols: int, rows: int) -> None:
        if not self.consent.allows("shell"):
            log.warning("refused to open a shell: %s", self.consent.refusal("shell"))
            self.send(wire.Failed(request=request, error=self.consent.refusal("shell")))
            return
        if number in self.shells or number in self._opening:
            self.send(wire.Failed(request=request, error=f"Shell {number} is already open"))
            return
        if sum(not shell.exited for shell in self.shells.values()) + len(self._opening) >= MAX_SHELLS:
            self.send(wire.Failed(request=request, error=f"At most {MAX_SHELLS} shells can be open at once"))
            return
        self._opening.add(number)
        task = asyncio.get_running_loop().create_task(self._start_shell(request, number, cols, rows))
        self._tasks[task] = "shell"  # taken back or stopped while starting: cancelled
        task.add_done_callback(lambda done: self._tasks.pop(done, None))

    async def _start_shell(self, request: str, number: int, cols: int, rows: int) -> None:
        shell = Shell(number, on_frame=self._shell_output, on_exit=self._shell_exited)
        try:
            await self._make_shell(shell, cols, rows)
        except asyncio.CancelledError:
            shell.forget()
            self.send(wire.Failed(request=request, error="The shell was closed before it started."))
            raise
        except OSError as error:
            self.send(wire.Failed(request=request, error=f"The shell could not start: {error}"[:1024]))
            return
        finally:
            self._opening.discard(number)
        self.shells[number] = shell
        self.send(wire.Done(request=request))
        self._say(f"A representative opened command shell {number}.")

    def _allowed_shell(self, number: int, what: str) -> Shell | None:
        if not self.consent.allows("shell"):
            log.warning("refused %s: %s", what, self.consent.refusal("shell"))
            return None
        shell = self.shells.get(number)
        if shell is None:
            log.error("refused %s: no shell %d", what, number)
        return shell

    def _shell_output(self, frame: bytes) -> None:
        if self._outbox is not None:
            self._outbox.put_nowait(frame)

    def _shell_exited(self, shell: Shell) -> None:
        self.send(wire.ShellExit(shell=shell.number, code=shell.exit_code))
        self._say(f"Command shell {shell.number} ended.")
        if shell.finished:
            self.shells.pop(shell.number, None)

    def _acked(self, number: int, sequence: int) -> None:
        shell = self.shells.get(number)
        if shell is None:
            return
        shell.ack(sequence)
        if shell.finished:
            del self.shells[number]

    # --- the screen -----------------------------------------------------------------------------

    def _start_screen(self, request: str, stream: int, settings: screen.Settings) -> None:
        if not self.consent.allows("screen"):
            log.warning("refused to share the screen: %s", self.consent.refusal("screen"))
            self.send(wire.Failed(request=request, error=self.consent.refusal("screen")))
            return
        if self.share is not None and self.share.stream != stream:
            self._stop_share()  # one share at a time: the newer stream wins
        if self.share is None or not self.share.running:  # none, or one still stopping: a new one
            self.share = self._new_share(stream)
        self.share.start(request, settings)

    def _new_share(self, stream: int) -> screen.Share:
        loop = asyncio.get_running_loop()
        share: screen.Share

        def later(action: Callable[..., None], *args: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the program is ending
                loop.call_soon_threadsafe(action, *args)

        def started(message: wire.ScreenStarted) -> None:
            later(self._screen_started, share, message)

        def answer(request: str, error: str | None) -> None:
            later(self.send, wire.Done(request=request) if error is None else wire.Failed(request=request, error=error))

        def frame(data: bytes) -> None:
            later(self._screen_frame_ready, share, data)

        def ended(error: str) -> None:
            later(self._share_ended, share, error)

        share = screen.Share(stream, screen.Callbacks(started=started, answer=answer, frame=frame, ended=ended))
        return share

    def _screen_started(self, share: screen.Share, message: wire.ScreenStarted) -> None:
        if share is not self.share:
            return
        self.send(message)
        if not share.announced:
            share.announced = True
            self._say("Your screen is shared with the representative. Type /revoke screen to stop.")

    def _screen_frame_ready(self, share: screen.Share, data: bytes) -> None:
        if share is not self.share or self._outbox is None:
            share.written()  # nowhere to go: dropped, and the next may be captured
            return
        self._screen_frames.append(data)
        self._outbox.put_nowait(data)

    def _stop_share(self) -> None:
        """Stop sharing; the thread ends and `_share_ended` says so."""
        if self.share is not None:
            self.share.stop()

    def _share_ended(self, share: screen.Share, error: str) -> None:
        if share is self.share:
            self.share = None
            self._screen_frames.clear()
        elif self.share is not None and self.share.stream == share.stream:
            return  # started again on the same stream while this one stopped: the stream goes on
        self.send(wire.ScreenStopped(stream=share.stream, error=error))
        if share.announced or error:
            self._say(f"Screen sharing stopped: {error}" if error else "Your screen is no longer shared.")
        if self._controlled and self.share is None:
            self._controlled = False

    def _screen_input(self, stream: int, events: list[Any]) -> None:
        share = self.share
        if not self.consent.allows("control"):
            log.warning("ignored the representative's input: %s", self.consent.refusal("control"))
            return
        if share is None or share.stream != stream or share.geometry is None:
            log.warning("ignored the representative's input: the screen is not shared")
            return
        if not self._controlled:
            self._controlled = True
            self._say("A representative is controlling your mouse and keyboard. Type /revoke control to take it back.")
        geometry = share.geometry
        self._input_thread.submit(self._inject, events, geometry)

    def _inject(self, events: list[Any], geometry: screen.Geometry) -> None:
        """On the input thread: one injector, opened on first use, reopened after a failure."""
        try:
            if self._injector is None:
                self._injector = control.injector()
            self._injector.inject(events, geometry)
        except Exception as error:
            log.error("could not inject the representative's input: %s", error)
            if self._injector is not None:
                self._injector.close()
                self._injector = None

    # --- the clipboard --------------------------------------------------------------------------

    def _open_clipboard(self) -> clipboard.Clipboard | None:
        """On a worker thread: the clipboard, opened once (None where there is none)."""
        with self._clipboard_lock:
            if not self._clipboard_opened:
                self._clipboard_opened = True
                self._clipboard = clipboard.open_clipboard()
            return self._clipboard

    def _set_clipboard(self, text: str) -> None:
        if not self.consent.allows("control"):
            log.warning("ignored the representative's clipboard: %s", self.consent.refusal("control"))
            return
        self._clipboard_seen = text  # not sent back as the customer's copy

        def put() -> None:
            board = self._open_clipboard()
            if board is None:
                log.warning("ignored the representative's clipboard: this computer has none the client can use")
                return
            board.set(text)

        self._input_thread.submit(put)

    def _start_clipboard_poll(self) -> None:
        if self.consent.allows("control") and (self._clipboard_poll is None or self._clipboard_poll.done()):
            self._clipboard_poll = asyncio.get_running_loop().create_task(self._poll_clipboard())

    def _stop_clipboard_poll(self) -> None:
        if self._clipboard_poll is not None:
            self._clipboard_poll.cancel()
            self._clipboard_poll = None

    async def _poll_clipboard(self) -> None:
        """While control is allowed: what the customer copies goes to the controlling rep.
        What was on the clipboard before is not sent."""
        board = await asyncio.to_thread(self._open_clipboard)
        if board is None:
            return
        first = True
        while self.consent.allows("control"):
            try:
                text = await asyncio.to_thread(board.get)
            except Exception as error:  # the display went away: no clipboard from now on
                log.warning("cannot read the clipboard: %s", error)
                return
            if text is not None and text != self._clipboard_seen:
                self._clipboard_seen = text
                if not first:
                    self.send(wire.ClipboardChanged(text=text))
            first = False
            await asyncio.sleep(CLIPBOARD_POLL)
