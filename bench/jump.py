"""Jump Clients at scale: many installed Jump Clients on one appliance process.

    .venv/bin/python -m bench.jump [--clients 20000] [--generators 4] [--rate 300]
                                   [--interval 60] [--rest 20] [--searches 200]

Installs `--clients` Jump Clients straight into the appliance's database (each with its own
Ed25519 key, made from its number so the load generators can sign for it), starts `lifeline
serve` (SQLite, HTTPS on loopback, one process) with `jump_connect_rate` = `--rate`, and
connects them all from `--generators` processes speaking the Jump protocol as
`lifeline-client jump run` does (challenge, signed hello, statistics every `--interval`
seconds, full-jitter backoff after a drop or a 1013). Then, one phase after another:

- memory: the appliance's resident memory before and with every Jump Client connected;
- rest: its CPU over `--rest` seconds while they only heartbeat (the transport's pings)
  and send statistics;
- search: a representative's console asks `jump_list` `--searches` times (hostnames, IPs,
  comments, tags, empty, offline only), p50 and p99; the baseline, in the same run and on
  the same socket, is the console's `ping`;
- Jump to a prompt: a real `lifeline-client jump install` + `jump run` process; the rep
  jumps to it and opens a command shell: the time from the `jump` request to the shell's
  first output;
- reconnect storm: the appliance is killed (`kill -9`) and started again; the time until
  every Jump Client (the real one too) is back, against the floor the connect rate sets
  (clients / rate).

A process may hold only so many open files (`ulimit -n`); the appliance needs a few dozen
besides its sockets, so `--clients` is cut to fit, and the bench says so. Loopback only;
stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lifeline_client.jump.run import full_jitter
from lifeline_protocol.jump import signed_text
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.client import cpu_seconds, percentile
from bench.command_api import free_port, wait_for
from bench.live_sessions import OPEN_TIMEOUT, TLS, provision, rss_mb, sign_in
from lifeline.appliance.settings import set_setting
from lifeline.bootstrap import open_database
from lifeline.config import Config
from lifeline.directory.models import User
from lifeline.jump.models import JumpClient, JumpGroup, JumpGroupMember

GROUP = "Bench computers"
FILES_SPARE = 400  # open files the appliance needs besides its Jump sockets (and the console, the real client)
CLIENT_VERSION = "0.1.0"  # the version the appliance serves: no upgrade is offered
TAGS = ("kiosk", "server", "laptop", "till")
READY_TIMEOUT = 120
PACE = 0.08  # seconds between a search and the next: a console may send 30 messages a second


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# --- the Jump Clients: keys made from their number ----------------------------------------------


def key_for(number: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"bench-jump-%d" % number).digest())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hostname(number: int) -> str:
    return f"bench-{number:05d}"


def private_ip(number: int) -> str:
    return f"10.{number // 65536}.{number // 256 % 256}.{number % 256}"


def computer(number: int) -> dict[str, Any]:
    return {
        "hostname": hostname(number),
        "os": "Debian GNU/Linux 13 (trixie)",
        "platform": "linux",
        "username": "svc",
        "private_ip": private_ip(number),
        "timezone_offset": 0,
        "client_version": CLIENT_VERSION,
    }


def install(data_dir: Path, clients: int, rate: int, interval: int) -> None:
    """The rep `rep000` in the group `GROUP`, and `clients` Jump Clients in it."""
    provision(data_dir, 1)
    db = open_database(Config(data_dir=data_dir))

    def work(session: Session) -> None:
        rep = session.scalars(select(User).where(User.username == "rep000")).one()
        group = JumpGroup(name=GROUP)
        session.add(group)
        session.flush()
        session.add(JumpGroupMember(jump_group_id=group.id, user_id=rep.id))
        rows = []
        for n in range(clients):
            public = key_for(n).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            rows.append(
                {
                    "mode": "jump_client",
                    "public_key": b64(public),
                    "jump_group_id": group.id,
                    "name": hostname(n),
                    "hostname": hostname(n),
                    "comments": f"Floor {n % 12} desk {n}",
                    "tag": TAGS[n % len(TAGS)],
                    "os": "Debian GNU/Linux 13 (trixie)",
                    "platform": "linux",
                    "private_ip": private_ip(n),
                    "public_ip": "127.0.0.1",
                }
            )
        for start in range(0, len(rows), 2000):
            session.execute(insert(JumpClient), rows[start : start + 2000])
        set_setting(session, "jump_connect_rate", str(rate))
        set_setting(session, "jump_statistics_interval", str(interval))
        set_setting(session, "jump_statistics", "console_user,cpu,disk,uptime")

    db.call(work)
    db.close()


# --- a load generator: a share of the Jump Clients in one process ----------------------------------


class Generator:
    """Holds Jump Clients `first`..`first+count-1` connected, as `jump run` would, and prints
    how many are connected every half second (`up N`)."""

    def __init__(self, ws_url: str, origin: str, first: int, count: int, spread: float) -> None:
        self.ws_url = ws_url
        self.origin = origin
        self.numbers = range(first, first + count)
        self.spread = spread
        self.up = 0
        self.refused = 0  # 1013s: the appliance's connect rate at work

    async def run(self) -> None:
        reporter = asyncio.create_task(self.report())
        await asyncio.gather(*(self.client(n) for n in self.numbers))
        reporter.cancel()

    async def report(self) -> None:
        while True:
            print(f"up {self.up} refused {self.refused}", flush=True)
            await asyncio.sleep(0.5)

    async def client(self, number: int) -> None:
        key = key_for(number)
        await asyncio.sleep(random.uniform(0, self.spread))  # installed machines do not start in step
        attempt = 0
        while True:
            welcomed = False
            try:
                async with websockets.connect(
                    self.ws_url, ssl=TLS, compression=None, open_timeout=OPEN_TIMEOUT, max_size=2**20
                ) as socket:
                    challenge = json.loads(await socket.recv())
                    signature = key.sign(signed_text(challenge["nonce"], number + 1, self.origin))
                    hello = {
                        "type": "hello",
                        "id": number + 1,
                        "signature": b64(signature),
                        "computer": computer(number),
                    }
                    await socket.send(json.dumps(hello))
                    welcome = json.loads(await socket.recv())
                    if welcome.get("type") != "welcome":
                        raise ConnectionError(welcome)
                    welcomed, attempt = True, 0
                    self.up += 1
                    await self.statistics(socket, float(welcome["interval"]), number)
            except websockets.ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code == 1013:
                    self.refused += 1
            except (OSError, TimeoutError, websockets.WebSocketException, ValueError, KeyError):
                pass  # refused while the appliance restarts, an HTTP error instead of the upgrade, ...
            if welcomed:
                self.up -= 1
            await asyncio.sleep(full_jitter(attempt))  # the real Jump Client's own wait
            attempt += 1

    async def statistics(self, socket: Any, interval: float, number: int) -> None:
        """Statistics every `interval` until the socket closes (noticed at once, not at the next send)."""
        started = time.monotonic()
        reader = asyncio.create_task(self.drain(socket))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reader), random.uniform(0, interval))
            while not reader.done():
                uptime = int(time.monotonic() - started) + 3600
                stats = {"type": "statistics", "console_user": "", "cpu": number % 97 / 1.0, "disk": 42.0}
                await socket.send(json.dumps({**stats, "uptime": uptime}))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(reader), interval)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await reader

    async def drain(self, socket: Any) -> None:
        """Read what comes (a Jump for a simulated client is answered as not possible)."""
        async for raw in socket:
            message = json.loads(raw)
            if message.get("type") in {"start_session", "shell_jump", "push_client"}:
                await socket.send(
                    json.dumps({"type": "started", "request": message["request"], "error": "a simulated Jump Client"})
                )


def generator_main(args: argparse.Namespace) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    generator = Generator(args.ws_url, args.origin, args.first, args.count, args.spread)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(generator.run())


class Generators:
    """The generator processes, and how many Jump Clients they hold connected now."""

    def __init__(self, args: argparse.Namespace, base: str, clients: int) -> None:
        self.processes: list[asyncio.subprocess.Process] = []
        self.up: list[int] = []
        self.refused: list[int] = []
        self.args = args
        self.base = base
        self.clients = clients
        self.readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        share = -(-self.clients // self.args.generators)
        spread = self.clients / self.args.rate  # installed machines arrive about as fast as the rate allows
        for index, first in enumerate(range(0, self.clients, share)):
            count = min(share, self.clients - first)
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.jump",
                "--generator",
                "--ws-url",
                self.base.replace("https://", "wss://") + "/ws/jump",
                "--origin",
                self.base,
                "--first",
                str(first),
                "--count",
                str(count),
                "--spread",
                f"{spread:.1f}",
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            self.processes.append(process)
            self.up.append(0)
            self.refused.append(0)
            self.readers.append(asyncio.create_task(self._read(index, process)))

    async def _read(self, index: int, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            words = line.split()
            if len(words) == 4 and words[0] == b"up":
                self.up[index], self.refused[index] = int(words[1]), int(words[3])

    def connected(self) -> int:
        return sum(self.up)

    async def all_up(self, timeout: float) -> float:
        """Seconds until every Jump Client is connected."""
        started = time.perf_counter()
        while self.connected() < self.clients:
            if time.perf_counter() - started > timeout:
                raise RuntimeError(
                    f"only {self.connected()} of {self.clients} Jump Clients connected in {timeout:.0f}s"
                )
            await asyncio.sleep(0.2)
        return time.perf_counter() - started

    async def all_down(self, timeout: float) -> None:
        """Until the generators saw every socket close (the appliance was killed)."""
        deadline = time.perf_counter() + timeout
        while self.connected() > 0 and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)

    def cpu(self) -> float:
        return sum(cpu_seconds(process.pid) for process in self.processes)

    async def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
            await process.wait()
        for reader in self.readers:
            reader.cancel()


# --- the appliance and a representative -------------------------------------------------------------


class Appliance:
    def __init__(self, data_dir: Path, log: Path, clients: int) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port, self.http_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "LIFELINE_DATA_DIR": str(data_dir),
            "LIFELINE_ADMIN_PASSWORD": "bench-admin-password",
            "LIFELINE_MAX_CONNECTIONS_PER_ADDRESS": str(clients + 100),
            # The appliance keeps an eighth of its file handles in reserve by default; here
            # nearly all go to sockets, so that as many Jump Clients as the machine allows fit.
            "LIFELINE_MAX_CONNECTIONS": str(clients + 200),
        }
        self.env.pop("DATABASE_URL", None)
        self.env.pop("REDIS_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> int:
        command = [sys.executable, "-m", "lifeline", "serve", "--https-port", str(self.port)]
        command += ["--http-port", str(self.http_port), "--bind", "127.0.0.1"]
        self.process = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log.open("ab"))
        wait_for(f"http://127.0.0.1:{self.http_port}/check_health")
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        if self.process.poll() is None:
            self.kill()


class Console:
    """A representative's console: requests answered by ref; the frames of its shells."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.refs = 0
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.pong: asyncio.Future[float] | None = None
        self.computers: dict[str, dict[str, Any]] = {}
        self.changed = asyncio.Event()
        self.shell_output = asyncio.Event()
        self.reader = asyncio.create_task(self.read())

    @classmethod
    async def open(cls, base: str) -> Console:
        cookie = await sign_in(base, "rep000")
        socket = await websockets.connect(
            base.replace("https://", "wss://") + "/ws/console",
            ssl=TLS,
            additional_headers={"Cookie": cookie},
            max_size=None,
            open_timeout=OPEN_TIMEOUT,
        )
        await socket.send(json.dumps({"type": "hello"}))
        while json.loads(await socket.recv())["type"] != "welcome":
            pass
        return cls(socket)

    async def read(self) -> None:
        async for raw in self.socket:
            if isinstance(raw, bytes):
                self.shell_output.set()
                continue
            message = json.loads(raw)
            kind = message["type"]
            if kind == "ack" and (future := self.acks.pop(message.get("ref") or "", None)) and not future.done():
                future.set_result(message)
            elif kind == "pong" and self.pong is not None and not self.pong.done():
                self.pong.set_result(time.perf_counter())
            elif kind == "computer":
                self.computers[message["lsid"]] = message
                self.changed.set()

    async def request(self, message: dict[str, Any], timeout: float = 30) -> Any:
        if self.reader.done():
            self.reader.result()  # its error, if it failed
            raise RuntimeError("the console's socket closed")
        self.refs += 1
        ref = f"b{self.refs}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.acks[ref] = future
        await self.socket.send(json.dumps({**message, "ref": ref}))
        answer = await asyncio.wait_for(future, timeout)
        if not answer.get("ok"):
            raise RuntimeError(f"{message['type']} refused: {answer.get('error')}")
        return answer.get("result")

    async def ping(self) -> float:
        self.pong = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await self.socket.send(json.dumps({"type": "ping"}))
        return await asyncio.wait_for(self.pong, 30) - started

    async def shell_ready(self, lsid: str) -> None:
        while not ((state := self.computers.get(lsid)) and state["connected"] and "shell" in state.get("allowed", [])):
            self.changed.clear()
            await self.changed.wait()

    async def close(self) -> None:
        self.reader.cancel()
        await self.socket.close()


def searches(clients: int, count: int) -> list[dict[str, Any]]:
    """What reps type into the Jump list: a hostname, part of one, an IP, a comment, a tag,
    nothing (the first page), and the offline ones."""
    rng = random.Random(7)
    kinds: list[Any] = [
        lambda: {"search": hostname(rng.randrange(clients))},
        lambda: {"search": hostname(rng.randrange(clients))[:-2]},
        lambda: {"search": private_ip(rng.randrange(clients))},
        lambda: {"search": f"Floor {rng.randrange(12)} desk"},
        lambda: {"search": rng.choice(TAGS)},
        lambda: {"search": ""},
        lambda: {"search": "", "online": False},
        lambda: {"search": "bench", "sort": "last_seen", "descending": True},
    ]
    return [{"type": "jump_list", "limit": 100, **kinds[n % len(kinds)]()} for n in range(count)]


# --- a real Jump Client ---------------------------------------------------------------------------------


def client_program() -> str:
    program = Path(sys.executable).with_name("lifeline-client")
    return str(program) if program.exists() else shutil.which("lifeline-client") or str(program)


def lifeline_cli(appliance: Appliance, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lifeline", *args], env=appliance.env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"lifeline {' '.join(args[:2])} failed: {done.stderr[-2000:]}")
    return done.stdout


def real_jump_client(appliance: Appliance, tmp: Path) -> subprocess.Popen[bytes]:
    """`lifeline-client jump install` with an installer made by the CLI, then `jump run`."""
    made = json.loads(lifeline_cli(appliance, "jump-installer", "add", "--group", GROUP, "--no-consent", "--json"))
    folder = tmp / "jump-client"
    cert = appliance.data_dir / "tls" / "appliance.crt"
    program = client_program()
    installed = subprocess.run(
        [program, "jump", "install", appliance.base, "--key", made["key"], "--dir", str(folder), "--ca", str(cert)],
        capture_output=True,
        text=True,
        check=False,
    )
    if installed.returncode != 0:
        raise RuntimeError(f"jump install failed: {installed.stdout[-1000:]} {installed.stderr[-1000:]}")
    env = {**os.environ, "SHELL": "/bin/sh", "PS1": "$ "}
    log = (tmp / "jump-client.log").open("wb")
    return subprocess.Popen(
        [program, "jump", "run", "--dir", str(folder)], stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
    )


async def real_one_online(console: Console, timeout: float = READY_TIMEOUT) -> dict[str, Any]:
    """The real Jump Client in the rep's list, once online: the one not named bench-NNNNN."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        wanted = {"type": "jump_list", "search": socket.gethostname(), "online": True, "sort": "hostname"}
        listed = await console.request(wanted)
        for item in listed["items"]:
            if not item["hostname"].startswith("bench-"):
                return dict(item)
        await asyncio.sleep(0.5)
    raise RuntimeError("the real Jump Client did not come online")


async def jump_to_prompt(console: Console, item: dict[str, Any]) -> float:
    """Seconds from the `jump` request to the first output of a command shell on that computer."""
    started = time.perf_counter()
    lsid = (await console.request({"type": "jump", "jump_client": item["id"]}))["lsid"]
    await asyncio.wait_for(console.shell_ready(lsid), READY_TIMEOUT)
    console.shell_output.clear()
    await console.request({"type": "shell_open", "lsid": lsid, "cols": 80, "rows": 24})
    await asyncio.wait_for(console.shell_output.wait(), READY_TIMEOUT)
    elapsed = time.perf_counter() - started
    await console.request({"type": "end", "lsid": lsid})
    return elapsed


# --- the run -----------------------------------------------------------------------------------------------


async def load(args: argparse.Namespace, appliance: Appliance, tmp: Path, clients: int) -> None:
    figures: dict[str, Any] = {}
    pid = appliance.start()
    await asyncio.sleep(1)
    figures["idle_rss"] = rss_mb(pid)[0]
    generators = Generators(args, appliance.base, clients)
    await generators.start()
    try:
        figures["connect"] = await generators.all_up(timeout=clients / args.rate * 3 + 120)
        print(f"{clients} Jump Clients connected in {figures['connect']:.1f}s", flush=True)
        await asyncio.sleep(2)
        figures["connected_rss"] = rss_mb(pid)[0]

        before, own_before, started = cpu_seconds(pid), generators.cpu(), time.perf_counter()
        await asyncio.sleep(args.rest)
        elapsed = time.perf_counter() - started
        figures["rest_cpu"] = (cpu_seconds(pid) - before) / elapsed
        figures["generators_cpu"] = (generators.cpu() - own_before) / elapsed
        print(f"rest measured over {args.rest}s", flush=True)

        console = await Console.open(appliance.base)
        times, pings, totals = [], [], []
        for search in searches(clients, args.searches):
            started = time.perf_counter()
            listed = await console.request(search)
            times.append(time.perf_counter() - started)
            totals.append(listed["total"])
            pings.append(await console.ping())
            await asyncio.sleep(PACE)
        print(f"{len(times)} searches done", flush=True)

        jump_client = real_jump_client(appliance, tmp) if args.real_client else None
        prompt = None
        if jump_client is not None:
            item = await real_one_online(console)
            prompt = await jump_to_prompt(console, item)
            print(f"jumped to {item['hostname']}: prompt in {prompt:.2f}s", flush=True)
        await console.close()

        appliance.kill()
        killed = time.perf_counter()
        await generators.all_down(timeout=30)
        pid = appliance.start()
        restarted = time.perf_counter() - killed
        figures["storm"] = await generators.all_up(timeout=clients / args.rate * 3 + 600)
        back = time.perf_counter() - killed
        if jump_client is not None:
            console = await Console.open(appliance.base)
            await real_one_online(console)
            real_back = time.perf_counter() - killed
            await console.close()
        figures["storm_rss"], figures["peak_rss"] = rss_mb(pid)
        refused = sum(generators.refused)
        await generators.stop()
        if jump_client is not None:
            jump_client.kill()
            jump_client.wait()

        print()
        print(f"one appliance process, SQLite; {clients} Jump Clients from {args.generators} generator processes")
        per = (figures["connected_rss"] - figures["idle_rss"]) * 1024 / clients
        print(
            f"  memory: idle {figures['idle_rss']:.0f} MB, with {clients} Jump Clients {figures['connected_rss']:.0f} MB "
            f"({per:.1f} KB each; aim: under 2048 MB in all), after the storm {figures['storm_rss']:.0f} MB"
        )
        print(
            f"  at rest (statistics every {args.interval}s, pings): appliance {figures['rest_cpu'] * 100:.1f}% of a core; "
            f"the generators {figures['generators_cpu'] * 100:.0f}% (on {os.cpu_count()} cores)"
        )
        print(
            f"  Jump list search over {clients}: {len(times)} searches, p50 {ms(statistics.median(times))}, "
            f"p99 {ms(percentile(times, 0.99))} (aim: p99 under 100 ms), matches {min(totals)}-{max(totals)}; "
            f"baseline, the console's ping on the same socket: p50 {ms(statistics.median(pings))}, "
            f"p99 {ms(percentile(pings, 0.99))}; search/ping p99 {percentile(times, 0.99) / percentile(pings, 0.99):.1f}"
        )
        if prompt is not None:
            print(f"  Jump to a shell prompt on a real Jump Client: {prompt:.2f}s (aim: under 2 s)")
        floor = clients / args.rate
        print(
            f"  reconnect storm after kill -9: all {clients} back {figures['storm']:.1f}s after the restart answered "
            f"({back:.1f}s after the kill; the restart took {restarted:.1f}s), against {floor:.1f}s that a connect rate of {args.rate}/s allows "
            f"({figures['storm'] / floor:.2f} of it); {refused} connects told to try again later (1013)"
        )
        if jump_client is not None:
            print(f"  the real Jump Client back {real_back:.1f}s after the kill")
    finally:
        await generators.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--generators", type=int, default=4, help="load generator processes")
    parser.add_argument("--rate", type=int, default=300, help="jump_connect_rate: new Jump sockets a second")
    parser.add_argument("--interval", type=int, default=60, help="jump_statistics_interval, seconds")
    parser.add_argument("--rest", type=int, default=20, help="seconds of CPU measured at rest")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--no-real-client", dest="real_client", action="store_false")
    # A generator's own arguments (the bench starts them).
    parser.add_argument("--generator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ws-url", help=argparse.SUPPRESS)
    parser.add_argument("--origin", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--spread", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generator:
        generator_main(args)
        return

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    clients = min(args.clients, hard - FILES_SPARE)
    if clients < args.clients:
        print(f"this machine lets a process open {hard} files: {clients} Jump Clients instead of {args.clients}")
    args.generators = max(1, min(args.generators, clients))
    with tempfile.TemporaryDirectory(prefix="lifeline-jump-bench-") as name:
        tmp = Path(name)
        data_dir = tmp / "data"
        os.environ["LIFELINE_ADMIN_PASSWORD"] = "bench-admin-password"
        started = time.perf_counter()
        install(data_dir, clients, args.rate, args.interval)
        print(f"{clients} Jump Clients installed in the database ({time.perf_counter() - started:.1f}s)", flush=True)
        appliance = Appliance(data_dir, tmp / "serve.log", clients)
        try:
            asyncio.run(load(args, appliance, tmp, clients))
        except BaseException:
            print(appliance.log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            appliance.stop()


if __name__ == "__main__":
    main()
