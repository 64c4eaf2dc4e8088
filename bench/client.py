"""The Lifeline client under load: real `lifeline-client` processes with command shells,
one appliance process, and representatives' consoles speaking the protocol.

    .venv/bin/python -m bench.client [--shells 100] [--reps 25] [--keys 5] [--duration 20]
                                     [--chat-interval 1] [--stream-mb 64] [--stream-shells 1]

Starts `lifeline serve` (SQLite, HTTPS on loopback) and signs in `--reps` consoles. For
each of `--shells` sessions it starts a session from a rep's link, runs
`lifeline-client attach URL --ca CERT --allow all --no-browser` as its own process (the
customer's chat is then the client's terminal: its stdin and stdout here), and the rep
takes the session and opens a command shell (`/bin/sh`, so the terminal's own echo
answers a key, not a line editor). Then, one phase after another:

- memory and CPU: the appliance's resident memory before the sessions, with every client
  connected and idle, and with every shell open; its CPU while they idle;
- keystroke echo: every rep types `--keys` keys a second into each of its shells (one key
  in flight per shell) for `--duration` seconds; the echo is timed from the console's send
  to the key's frame coming back (rep -> appliance -> client -> PTY -> client ->
  appliance, recorded -> rep);
- the baseline, in the same run: the chat round trip over the same route, rep -> appliance
  -> the client's terminal chat -> appliance -> rep, one line per session every
  `--chat-interval` seconds (each line two commits where a key has the PTY and the
  recording). It is measured on the same appliance, sessions and client processes under
  the same connections, so the ratio says what the shell's path costs against the
  appliance's oldest live path on this machine today. A plain local PTY echoes a key in
  tens of microseconds and says nothing about the machine's load: it is printed beside, as
  the floor;
- shell output: `--stream-shells` shells print `--stream-mb` MB each (`yes | head`); MB/s
  per shell as the console receives it, beside the same command read from a plain local
  PTY by this process; then each recording (asciicast) is read back and must hold every
  byte the console got.

Prints the figures and the appliance's memory per idle client and per open shell. Loopback
only; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import websockets
from lifeline_protocol import binary
from sqlalchemy.orm import Session

from bench.command_api import free_port, wait_for
from bench.live_sessions import OPEN_TIMEOUT, TLS, rss_mb, sign_in
from lifeline.appliance.settings import set_setting
from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config
from lifeline.directory import actions as directory
from lifeline.directory.passwords import hash_password

SHELL = "/bin/sh"
START_CONCURRENCY = 8  # clients starting at once (each is a Python process importing its modules)
READY_TIMEOUT = 120  # seconds for one client to connect and its shell to show a prompt
KEY_TIMEOUT = 10  # a key not echoed by then counts as lost
LINE = 30  # keys typed on one (comment) line before Enter
LETTERS = "abcdefghijklmnopqrstuvwxyz"
STREAM_TEXT = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
DONE = b"@@DONE@@"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_total(pids: list[int]) -> float:
    """CPU time of several processes together (their shells not counted)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * fraction) - 1))]


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def provision(data_dir: Path, reps: int) -> list[tuple[int, str]]:
    """Reps (one password hash for all: provisioning speed only); every session starts
    from 127.0.0.1, so no per-address limit on starting them."""
    db = open_database(Config(data_dir=data_dir))
    db.call(ensure_appliance, "bench.example.com")
    shared = hash_password("rep-password")

    def work(session: Session) -> list[tuple[int, str]]:
        users = [
            directory.User(username=f"rep{n:03d}", password_hash=shared, display_name=f"Rep {n:03d}", perm_support=True)
            for n in range(reps)
        ]
        session.add_all(users)
        set_setting(session, "session_starts_per_address", "0")
        session.flush()
        return [(user.id, user.display_name) for user in users]

    found = db.call(work)
    db.close()
    return found


# --- the representative's side: a console speaking the protocol -------------------------------


class Shell:
    """One command shell as a console sees it: its output frames, and what it waits for."""

    def __init__(self, console: RepConsole, lsid: str, number: int) -> None:
        self.console = console
        self.lsid = lsid
        self.number = number
        self.received = 0  # bytes of output
        self.gaps = 0  # frames whose sequence did not follow the one before
        self.last_sequence = 0
        self.tail = b""
        self.wanted: tuple[bytes, asyncio.Future[float]] | None = None
        self.echoes: list[float] = []
        self.lost = 0

    def output(self, sequence: int, payload: bytes) -> None:
        if self.last_sequence and not binary.follows(self.last_sequence, sequence):
            self.gaps += 1
        self.last_sequence = sequence
        self.received += len(payload)
        if self.wanted is None:
            return
        seen = self.tail + payload
        self.tail = seen[-64:]
        expected, future = self.wanted
        if expected in seen and not future.done():
            future.set_result(time.perf_counter())

    async def type(self, data: str, expect: bytes, timeout: float = KEY_TIMEOUT) -> float:
        """Send keys; the seconds until `expect` shows in the output that follows."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.tail, self.wanted = b"", (expect, future)
        started = time.perf_counter()
        await self.console.send({"type": "shell_input", "lsid": self.lsid, "shell": self.number, "data": data})
        try:
            return await asyncio.wait_for(future, timeout) - started
        finally:
            self.wanted = None

    async def typist(self, rate: float, until: float) -> None:
        """A person typing: a comment line of letters (the shell runs nothing), Enter, again.
        Only letters are timed: neither the prompt nor a line's end has any."""
        await asyncio.sleep(1 / rate * (self.number % 10) / 10)  # not all in step
        typed = 0
        while (started := time.perf_counter()) < until:
            try:
                if typed % LINE == 0:
                    await self.type("\r", b"\n")
                    await self.type("#", b"#")
                letter = LETTERS[typed % len(LETTERS)]
                self.echoes.append(await self.type(letter, letter.encode()))
            except TimeoutError:
                self.lost += 1
            typed += 1
            await asyncio.sleep(max(0.0, started + 1 / rate - time.perf_counter()))


class RepConsole:
    """A rep's console over /ws/console: takes what reaches its queue, opens shells, types,
    chats, and hands each shell's frames to its Shell."""

    def __init__(self, socket: Any, rep_id: int) -> None:
        self.socket = socket
        self.rep_id = rep_id
        self.refs = 0
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.shells: dict[int, Shell] = {}
        self.early: dict[int, list[tuple[int, bytes]]] = {}  # frames of shells not known yet
        self.lsids: dict[str, str] = {}  # customer name -> lsid
        self.arrived: dict[str, asyncio.Event] = {}  # customer name -> their session is here
        self.computers: dict[str, dict[str, Any]] = {}  # lsid -> the latest `computer`
        self.computer_changed = asyncio.Event()
        self.pongs: dict[str, float] = {}  # chat tag -> when the customer's answer arrived
        self.pong_arrived = asyncio.Event()
        self.errors: list[str] = []

    @classmethod
    async def open(cls, base: str, ws_base: str, username: str, rep_id: int) -> RepConsole:
        cookie = await sign_in(base, username)
        socket = await websockets.connect(
            f"{ws_base}/ws/console",
            ssl=TLS,
            additional_headers={"Cookie": cookie},
            max_size=None,
            open_timeout=OPEN_TIMEOUT,
        )
        await socket.send(json.dumps({"type": "hello"}))
        while json.loads(await socket.recv())["type"] != "welcome":
            pass
        return cls(socket, rep_id)

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def request(self, message: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        self.refs += 1
        ref = f"b{self.refs}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.acks[ref] = future
        await self.send({**message, "ref": ref})
        try:
            answer = await asyncio.wait_for(future, timeout)
        finally:
            self.acks.pop(ref, None)
        if not answer.get("ok"):
            raise RuntimeError(f"{message['type']} refused: {answer.get('error')}")
        return answer

    def add_shell(self, shell: Shell) -> None:
        self.shells[shell.number] = shell
        for sequence, payload in self.early.pop(shell.number, []):
            shell.output(sequence, payload)

    def arrival(self, name: str) -> asyncio.Event:
        return self.arrived.setdefault(name, asyncio.Event())

    async def run(self) -> None:
        async for raw in self.socket:
            if isinstance(raw, bytes):
                header = binary.unpack_header(raw)
                if header.kind is not binary.FrameKind.SHELL:
                    continue
                shell = self.shells.get(header.stream)
                if shell is not None:
                    shell.output(header.sequence, raw[binary.HEADER_SIZE :])
                else:  # the shell's first output (its prompt) may come before shell_open's ack
                    self.early.setdefault(header.stream, []).append((header.sequence, raw[binary.HEADER_SIZE :]))
                continue
            message = json.loads(raw)
            kind = message["type"]
            if kind == "ack":
                future = self.acks.get(message.get("ref") or "")
                if future is not None and not future.done():
                    future.set_result(message)
            elif kind == "session":
                state = message["session"]
                name = (state.get("customer") or {}).get("name") or ""
                if state["status"] == "waiting" and name in self.arrived:
                    self.refs += 1
                    await self.send({"type": "take", "ref": f"t{self.refs}", "lsid": state["lsid"]})
                elif state["status"] == "active" and name in self.arrived:
                    self.lsids[name] = state["lsid"]
                    self.arrived[name].set()
            elif kind == "computer":
                self.computers[message["lsid"]] = message
                self.computer_changed.set()
            elif kind == "event" and message["event"]["type"] == "Chat Message":
                body = message["event"]["body"] or ""
                if body.startswith("pong "):
                    self.pongs.setdefault(body[5:].strip(), time.perf_counter())
                    self.pong_arrived.set()
            elif kind == "error":
                self.errors.append(message.get("error", ""))

    async def computer_ready(self, lsid: str) -> None:
        """Until the session's client is connected and the customer allows the shell."""
        while True:
            state = self.computers.get(lsid)
            if state is not None and state["connected"] and "shell" in state.get("allowed", []):
                return
            self.computer_changed.clear()
            await self.computer_changed.wait()

    async def chat_round_trip(self, lsid: str, tag: str, timeout: float = KEY_TIMEOUT) -> float:
        started = time.perf_counter()
        await self.request({"type": "chat", "lsid": lsid, "body": f"ping {tag}"})
        deadline = started + timeout
        while tag not in self.pongs:
            self.pong_arrived.clear()
            await asyncio.wait_for(self.pong_arrived.wait(), max(0.01, deadline - time.perf_counter()))
        return self.pongs.pop(tag) - started


# --- the customer's side: real client processes ------------------------------------------------


class ClientProcess:
    """`lifeline-client attach` for one session. Its terminal chat is its stdin and stdout:
    a rep's `ping TAG` printed there is answered `pong TAG` as a customer would type it."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log
        self.reader = asyncio.create_task(self._answer())

    @classmethod
    async def start(cls, program: str, chat_url: str, cert: Path, log: Path, allow: str) -> ClientProcess:
        env = {**os.environ, "SHELL": SHELL, "PS1": "$ ", "PYTHONUNBUFFERED": "1"}
        process = await asyncio.create_subprocess_exec(
            program,
            "attach",
            chat_url,
            "--ca",
            str(cert),
            "--allow",
            allow,
            "--no-browser",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("wb"),
            env=env,
        )
        return cls(process, log)

    async def _answer(self) -> None:
        assert self.process.stdout is not None
        assert self.process.stdin is not None
        answered: set[bytes] = set()
        while line := await self.process.stdout.readline():
            for tag in re.findall(rb"\bping (\S+)", line):
                if tag not in answered:
                    answered.add(tag)
                    self.process.stdin.write(b"pong " + tag + b"\n")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.reader.cancel()


async def start_session(client: httpx.AsyncClient, rep_id: int, rep_name: str, customer: str) -> str:
    """A customer follows the rep's link, as a browser: the chat page's path, /chat/<token>."""
    response = await client.post(
        "/api/start_session", data={"id": str(rep_id), "name": rep_name, "customer_name": customer}
    )
    assert response.status_code == 303, response.text[:300]
    location: str = response.headers["location"]
    return location


# --- a plain local PTY: the baseline of shell output, and the floor of an echo -------------------


class LocalPty:
    """A program on a PTY this process reads itself: what a shell costs with no client,
    no appliance and no network in between."""

    def __init__(self, command: list[str]) -> None:
        import pty

        self.leader, follower = pty.openpty()
        os.set_blocking(self.leader, False)
        env = {**os.environ, "PS1": "$ "}
        self.process = subprocess.Popen(
            command, stdin=follower, stdout=follower, stderr=follower, start_new_session=True, env=env
        )
        os.close(follower)
        self.received = 0
        self.tail = b""
        self.wanted: tuple[bytes, asyncio.Future[float]] | None = None
        asyncio.get_running_loop().add_reader(self.leader, self._readable)

    def _readable(self) -> None:
        try:
            chunk = os.read(self.leader, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # EIO: the program is gone and the PTY drained
            chunk = b""
        self.received += len(chunk)
        seen = self.tail + chunk
        self.tail = seen[-64:]
        if self.wanted is not None and (self.wanted[0] in seen or not chunk) and not self.wanted[1].done():
            self.wanted[1].set_result(time.perf_counter())
        if not chunk:
            asyncio.get_running_loop().remove_reader(self.leader)

    async def until(self, expect: bytes, data: bytes = b"", timeout: float = 300) -> float:
        """Write `data`; the seconds until `expect` shows (or the PTY ends)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.tail, self.wanted = b"", (expect, future)
        started = time.perf_counter()
        if data:
            os.write(self.leader, data)
        try:
            return await asyncio.wait_for(future, timeout) - started
        finally:
            self.wanted = None

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.leader)
        os.close(self.leader)
        self.process.kill()
        self.process.wait()


async def local_pty_stream(size: int) -> float:
    """MB/s of the streaming shells' command read from a plain PTY by this process."""
    started = time.perf_counter()
    local = LocalPty([SHELL, "-c", stream_command(size, typed=False)])
    try:
        await local.until(DONE)
        return local.received / (time.perf_counter() - started) / 1e6
    finally:
        local.close()


async def local_pty_echo(keys: int) -> float:
    """The median echo of a key typed into a plain PTY's shell: the floor under every figure."""
    local = LocalPty([SHELL, "-i"])
    try:
        await local.until(b"$ ", timeout=10)
        await local.until(b"#", b"#", timeout=10)
        echoes = [await local.until(letter.encode(), letter.encode(), 10) for letter in (LETTERS * keys)[:keys]]
        return statistics.median(echoes)
    finally:
        local.close()


def stream_command(size: int, *, typed: bool = True) -> str:
    """Print `size` bytes of text lines, then the end marker (split with quotes when typed,
    so the terminal's echo of the command line does not already show it)."""
    marker = '@@DO""NE@@' if typed else "@@DONE@@"
    return f"yes {STREAM_TEXT} | head -c {size}; echo; echo {marker}"


def recorded_output(recordings: Path, lsid: str) -> int:
    """Bytes of output in the shell's asciicast recording (its "o" events, as UTF-8)."""
    total = 0
    for path in recordings.rglob("*.cast"):
        with path.open(encoding="utf-8") as cast:
            header = json.loads(cast.readline())
            if lsid not in str(header.get("title", "")) and lsid not in path.name:
                continue
            for line in cast:
                _, kind, data = json.loads(line)
                if kind == "o":
                    total += len(data.encode("utf-8", "surrogatepass"))
    return total


# --- the run -------------------------------------------------------------------------------------


async def measure_idle_cpu(pid: int, seconds: float) -> float:
    """Share of one core the process used over `seconds`."""
    before, started = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.perf_counter() - started)


async def bounded(limit: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def load(args: argparse.Namespace, base: str, tmp: Path, server_pid: int, reps: list[tuple[int, str]]) -> None:
    ws_base = base.replace("https://", "wss://")
    cert = args.data_dir / "tls" / "appliance.crt"
    program = str(Path(sys.executable).with_name("lifeline-client"))
    if not Path(program).exists():
        program = shutil.which("lifeline-client") or program
    figures: dict[str, Any] = {"idle_rss": args.idle_rss}

    started = time.perf_counter()
    consoles = [await RepConsole.open(base, ws_base, f"rep{n:03d}", rep_id) for n, (rep_id, _) in enumerate(reps)]
    readers = [asyncio.create_task(console.run()) for console in consoles]
    await asyncio.sleep(1)
    figures["consoles_rss"] = rss_mb(server_pid)[0]
    print(f"{len(consoles)} reps logged in ({time.perf_counter() - started:.1f}s)", flush=True)

    clients: list[ClientProcess] = []
    shells: list[Shell] = []
    browser = {"Accept": "text/html,*/*;q=0.8"}
    limits = httpx.Limits(max_connections=START_CONCURRENCY, max_keepalive_connections=0)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, verify=TLS, timeout=60, limits=limits, headers=browser) as http:

        async def arrive(n: int) -> tuple[RepConsole, str]:
            console = consoles[n % len(consoles)]
            rep_id, rep_name = reps[n % len(reps)]
            name = f"Customer {n:03d}"
            here = console.arrival(name)
            path = await start_session(http, rep_id, rep_name, name)
            log = tmp / f"client-{n:03d}.log"
            clients.append(await ClientProcess.start(program, base + path, cert, log, args.allow))
            try:
                await asyncio.wait_for(here.wait(), READY_TIMEOUT)
                lsid = console.lsids[name]
                await asyncio.wait_for(console.computer_ready(lsid), READY_TIMEOUT)
            except TimeoutError:
                raise RuntimeError(f"client {n} never became ready; its log ends:\n{log.read_text()[-2000:]}") from None
            return console, lsid

        # In two waves: the second's memory is what one more client costs, without what
        # the first ones brought once (modules imported, caches, the allocator's arenas).
        half = args.shells // 2
        sessions = await bounded(START_CONCURRENCY, [lambda n=n: arrive(n) for n in range(half)])
        await asyncio.sleep(3)
        figures["half_clients_rss"] = rss_mb(server_pid)[0]
        sessions += await bounded(START_CONCURRENCY, [lambda n=n: arrive(n) for n in range(half, args.shells)])
    print(f"{args.shells} clients connected, allowing {args.allow} ({time.perf_counter() - started:.1f}s)", flush=True)
    await asyncio.sleep(3)
    figures["clients_rss"] = rss_mb(server_pid)[0]
    figures["idle_cpu"] = await measure_idle_cpu(server_pid, 5)

    started = time.perf_counter()

    async def open_shell(console: RepConsole, lsid: str) -> Shell:
        answer = await console.request({"type": "shell_open", "lsid": lsid, "cols": 80, "rows": 24})
        shell = Shell(console, lsid, int(answer["result"]["shell"]))
        console.add_shell(shell)
        # The shell is up when a key comes back: the prompt may have come before we knew its number.
        await shell.type("#", b"#", timeout=READY_TIMEOUT)
        return shell

    shells = await bounded(START_CONCURRENCY, [lambda c=c, s=s: open_shell(c, s) for c, s in sessions[:half]])
    await asyncio.sleep(3)
    figures["half_shells_rss"] = rss_mb(server_pid)[0]
    shells += await bounded(START_CONCURRENCY, [lambda c=c, s=s: open_shell(c, s) for c, s in sessions[half:]])
    print(f"{len(shells)} shells open ({time.perf_counter() - started:.1f}s)", flush=True)
    await asyncio.sleep(3)
    figures["shells_rss"] = rss_mb(server_pid)[0]

    # Keystroke echo.
    client_pids = [client.process.pid for client in clients]
    cpu_before, clients_before, own_before = cpu_seconds(server_pid), cpu_total(client_pids), time.process_time()
    started = time.perf_counter()
    until = started + args.duration
    await asyncio.gather(*(shell.typist(args.keys, until) for shell in shells))
    elapsed = time.perf_counter() - started
    figures["echo_cpu"] = (cpu_seconds(server_pid) - cpu_before) / elapsed
    figures["echo_clients_cpu"] = (cpu_total(client_pids) - clients_before) / elapsed
    figures["echo_own_cpu"] = (time.process_time() - own_before) / elapsed
    echoes = [e for shell in shells for e in shell.echoes]
    lost = sum(shell.lost for shell in shells)
    print(f"keystroke echo done: {len(echoes)} keys", flush=True)

    # The baseline: the chat round trip over the same route.
    trips: list[float] = []
    chat_lost = 0
    chat_until = time.perf_counter() + args.duration

    async def chatter(n: int, console: RepConsole, lsid: str) -> None:
        nonlocal chat_lost
        await asyncio.sleep(args.chat_interval * (n % 10) / 10)
        count = 0
        while time.perf_counter() < chat_until:
            count += 1
            try:
                trips.append(await console.chat_round_trip(lsid, f"{n}-{count}"))
            except TimeoutError:
                chat_lost += 1
            await asyncio.sleep(args.chat_interval)

    await asyncio.gather(*(chatter(n, c, s) for n, (c, s) in enumerate(sessions)))
    print(f"chat round trips done: {len(trips)}", flush=True)

    # Shell output through the appliance, recorded, beside a plain local PTY.
    size = args.stream_mb * 1_000_000
    streaming = shells[: args.stream_shells]
    for shell in streaming:  # end the comment line the typist left
        await shell.type("\r", b"\n")
    received_before = [shell.received for shell in streaming]
    cpu_before = cpu_seconds(server_pid)

    durations = await asyncio.gather(
        *(shell.type(stream_command(size) + "\r", DONE, timeout=600) for shell in streaming)
    )
    stream_cpu = cpu_seconds(server_pid) - cpu_before
    rates = [
        (shell.received - before) / seconds / 1e6
        for shell, before, seconds in zip(streaming, received_before, durations, strict=True)
    ]
    streamed_mb = sum(shell.received - before for shell, before in zip(streaming, received_before, strict=True)) / 1e6
    local_rate = await local_pty_stream(size)
    local_echo = await local_pty_echo(200)
    # Close the shells, so their recordings are finished; then read them back.
    for shell in streaming:
        await shell.console.request({"type": "shell_close", "lsid": shell.lsid, "shell": shell.number})
    await asyncio.sleep(2)
    recordings = args.data_dir / "recordings"
    complete = [(recorded_output(recordings, shell.lsid), shell.received) for shell in streaming]
    _, peak_rss = rss_mb(server_pid)

    for task in readers:
        task.cancel()
    await asyncio.gather(*(client.stop() for client in clients))
    for console in consoles:
        await console.socket.close()

    n = args.shells
    print()
    print(
        f"one appliance process, SQLite; {n} lifeline-client processes, each with one shell ({SHELL}), "
        f"{len(consoles)} reps' consoles"
    )
    print(
        f"  keystroke echo ({args.keys:g} keys/s per shell, {args.duration}s): {len(echoes)} keys, lost {lost}, "
        f"p50 {ms(statistics.median(echoes))}, p99 {ms(percentile(echoes, 0.99))}, max {ms(max(echoes))}"
    )
    if trips:
        print(
            f"  baseline, chat round trip over the same route (a line per session every {args.chat_interval:g}s): "
            f"{len(trips)} lines, lost {chat_lost}, p50 {ms(statistics.median(trips))}, "
            f"p99 {ms(percentile(trips, 0.99))}"
        )
        print(
            f"  echo against chat: p50 {statistics.median(echoes) / statistics.median(trips):.2f} of it, "
            f"p99 {percentile(echoes, 0.99) / percentile(trips, 0.99):.2f} of it "
            f"(a plain local PTY echoes a key in {local_echo * 1e6:.0f} µs)"
        )
    gaps = sum(shell.gaps for shell in shells)
    print(
        f"  shell output: {', '.join(f'{rate:.1f}' for rate in rates)} MB/s per shell "
        f"({len(streaming)} at once, {args.stream_mb} MB each; "
        f"{min(rates) / local_rate:.2f} of a plain local PTY at {local_rate:.1f} MB/s); "
        f"appliance CPU {stream_cpu / streamed_mb * 1000:.1f} ms per MB; frames skipped: {gaps}"
    )
    for (recorded, shown), shell in zip(complete, streaming, strict=True):
        verdict = "complete" if recorded == shown else "INCOMPLETE"
        print(f"  recording of shell {shell.number}: {recorded} bytes of output, the console got {shown}: {verdict}")
    second = n - n // 2
    per_client = (figures["clients_rss"] - figures["half_clients_rss"]) * 1024 / second
    per_shell = (figures["shells_rss"] - figures["half_shells_rss"]) * 1024 / second
    print(
        f"  appliance memory: idle {figures['idle_rss']:.0f} MB, with the consoles {figures['consoles_rss']:.0f} MB, "
        f"with {n // 2} then {n} clients {figures['half_clients_rss']:.0f} and {figures['clients_rss']:.0f} MB, "
        f"with {n // 2} then {n} shells {figures['half_shells_rss']:.0f} and {figures['shells_rss']:.0f} MB, "
        f"peak {peak_rss:.0f} MB"
    )
    print(
        f"  per idle client {per_client:.0f} KB (the second {second}: each a session, its client's socket and "
        f"its terminal chat's socket; {(figures['clients_rss'] - figures['consoles_rss']) * 1024 / n:.0f} KB "
        f"averaged over all {n}); per open shell {per_shell:.0f} KB"
    )
    print(
        f"  appliance CPU: {figures['idle_cpu'] * 100 / n:.3f}% of a core per idle client; "
        f"{figures['echo_cpu'] * 100 / n:.2f}% per shell while typing ({figures['echo_cpu'] * 100:.0f}% in all; "
        f"meanwhile the {n} clients used {figures['echo_clients_cpu'] * 100:.0f}% and this bench "
        f"{figures['echo_own_cpu'] * 100:.0f}% of a core, on {os.cpu_count()} cores)"
    )
    errors = [e for console in consoles for e in console.errors]
    if errors:
        print(f"  errors the consoles got: {len(errors)}, e.g. {errors[0]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shells", type=int, default=100, help="sessions, each a client process with one shell")
    parser.add_argument("--reps", type=int, default=25, help="consoles sharing the sessions (30 messages/s each)")
    parser.add_argument("--keys", type=float, default=5.0, help="keys a second typed into each shell")
    parser.add_argument("--duration", type=int, default=20, help="seconds of typing, and of chatting")
    parser.add_argument("--chat-interval", type=float, default=1.0)
    parser.add_argument("--stream-mb", type=int, default=64, help="MB each streaming shell prints")
    parser.add_argument("--stream-shells", type=int, default=1)
    parser.add_argument(
        "--allow", default="all", help="what the customers allow (`shell`: no system information sent at start)"
    )
    args = parser.parse_args()
    args.reps = max(1, min(args.reps, args.shells))
    args.stream_shells = max(1, min(args.stream_shells, args.shells))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with tempfile.TemporaryDirectory(prefix="lifeline-client-bench-") as name:
        tmp = Path(name)
        args.data_dir = tmp / "data"
        env = {**os.environ, "LIFELINE_DATA_DIR": str(args.data_dir), "LIFELINE_ADMIN_PASSWORD": "bench-admin-password"}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        os.environ["LIFELINE_ADMIN_PASSWORD"] = env["LIFELINE_ADMIN_PASSWORD"]
        reps = provision(args.data_dir, args.reps)
        env["LIFELINE_MAX_CONNECTIONS_PER_ADDRESS"] = str(3 * args.shells + args.reps + 100)
        port, http_port = free_port(), free_port()
        log = tmp / "serve.log"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lifeline",
                "serve",
                "--https-port",
                str(port),
                "--http-port",
                str(http_port),
                "--bind",
                "127.0.0.1",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        try:
            wait_for(f"http://127.0.0.1:{http_port}/check_health")
            time.sleep(1)
            args.idle_rss = rss_mb(server.pid)[0]
            asyncio.run(load(args, f"https://127.0.0.1:{port}", tmp, server.pid, reps))
        except BaseException:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=15)
            if server.poll() is None:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
