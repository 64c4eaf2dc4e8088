"""Live sessions under load: many customers and reps chatting over real WebSockets with one
appliance process.

    .venv/bin/python -m bench.live_sessions [--active 1000] [--idle 9000] [--reps 50]
                                             [--interval 5] [--duration 30]

Starts `lifeline serve` (SQLite), measures its idle memory, then brings in `--idle`
customers who wait in a queue no rep watches and `--active` customers in reps' queues,
each taken by one of `--reps` consoles. Every active customer sends a chat line every
`--interval` seconds (spread out); their rep answers each line at once. The round trip is
from the customer sending a line to the customer receiving the rep's answer: two commits
and four WebSocket hops. Prints p50/p99/p99.9/max of the round trip, each also as a ratio
of the baseline: the p50 of one customer chatting alone (the others connected but quiet),
measured in the same run just before the load. Then the server's memory beside its idle
footprint. Loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import re
import resource
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy.orm import Session

from bench.command_api import free_port, wait_for
from lifeline.appliance.settings import set_setting
from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config
from lifeline.directory import actions as directory
from lifeline.directory.passwords import hash_password

CONNECT_CONCURRENCY = 100
# Round trips of one customer alone, before the load: the baseline's p50 is their median.
BASELINE_LINES = 20
# As long as the HTTP requests may take: on a busy machine an opening handshake waits
# behind the start_session posts, and websockets' default of 10 s ended runs half way.
OPEN_TIMEOUT = 60
# Customers' chat pages and reps' consoles are browsers, which never send WebSocket pings
# of their own (they answer the appliance's, every LIFELINE_PING_TIMEOUT seconds): so these
# send none either. The websockets library's default would add a ping and its answer every
# 20 s on each of the 10,000 sockets, more frames than the chat itself.
BROWSER = None
# Consoles and customers speak HTTPS and wss only (plain HTTP sends people to HTTPS); the
# appliance's certificate is its own self-signed one, on loopback.
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def provision(data_dir: Path, reps: int) -> int:
    """Reps (one password hash for all: provisioning speed only) and a team only a watcher is
    in: someone must be on duty for a queue, or customers are not queued there."""
    db = open_database(Config(data_dir=data_dir))
    db.call(ensure_appliance, "bench.example.com")
    shared = hash_password("rep-password")

    def work(session: Session) -> int:
        for n in range(reps):
            session.add(
                directory.User(
                    username=f"rep{n:03d}", password_hash=shared, display_name=f"Rep {n:03d}", perm_support=True
                )
            )
        watcher = directory.User(
            username="watcher",
            password_hash=shared,
            display_name="Watcher",
            perm_support=True,
            perm_general_queue=False,
        )
        session.add(watcher)
        overflow = directory.add_team(session, "Overflow")
        directory.add_team_member(session, overflow, watcher)
        directory.add_issue(session, overflow, "Waiting room", code_name="waiting_room")
        # Every customer starts from 127.0.0.1: no per-address limit on starting sessions.
        set_setting(session, "session_starts_per_address", "0")
        return overflow.id

    team = db.call(work)
    db.close()
    return team


async def sign_in(base: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=base, verify=TLS) as client:
        page = await client.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        response = await client.post(
            "/console/login", data={"csrf": csrf.group(1), "username": username, "password": "rep-password"}
        )
        assert response.status_code == 303, response.text
        return f"lifeline_session={client.cookies['lifeline_session']}"


async def arrive(base: str, ws_base: str, count: int, params: Any, limit: asyncio.Semaphore) -> list[tuple[Any, str]]:
    """Customers start sessions and attach their clients, as a browser does, right after."""
    # No keep-alive: a connection idle past the server's 5 s keep-alive would race its closing.
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
    # Accept as a browser navigating: without text/html, /api/start_session answers with a download.
    browser = {"Accept": "text/html,*/*;q=0.8"}
    async with httpx.AsyncClient(base_url=base, verify=TLS, timeout=60, limits=limits, headers=browser) as client:

        async def one(n: int) -> tuple[Any, str]:
            async with limit:
                response = await client.post("/api/start_session", data=params(n))
                assert response.status_code == 303, response.text[:300]
                token = response.headers["location"].rsplit("/", 1)[1]
                socket = await websockets.connect(
                    f"{ws_base}/ws/customer", ssl=TLS, max_size=None, open_timeout=OPEN_TIMEOUT, ping_interval=BROWSER
                )
                await socket.send(json.dumps({"type": "hello", "token": token}))
                welcome = await receive(socket, {"welcome"})
                return socket, welcome["session"]["status"]

        return await asyncio.gather(*(one(n) for n in range(count)))


async def receive(socket: Any, wanted: set[str]) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await socket.recv())
        if message["type"] in wanted:
            return message


async def drain(socket: Any) -> None:
    async for _ in socket:
        pass


def percentile(ordered: list[float], fraction: float) -> float:
    """The value below which `fraction` of the (sorted) samples fall."""
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * fraction + 0.5) - 1))]


class Rep:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.seq = 0

    async def run(self) -> None:
        """Take what arrives in the rep's queue; answer every customer line at once."""
        async for raw in self.socket:
            message = json.loads(raw)
            if message["type"] == "session" and message["session"]["status"] == "waiting":
                self.seq += 1
                await self.socket.send(
                    json.dumps({"type": "take", "ref": f"t{self.seq}", "lsid": message["session"]["lsid"]})
                )
            elif message["type"] == "event" and message["event"]["type"] == "Chat Message":
                body = message["event"]["body"] or ""
                if body.startswith("ping "):
                    self.seq += 1
                    await self.socket.send(
                        json.dumps(
                            {"type": "chat", "ref": f"c{self.seq}", "lsid": message["lsid"], "body": "pong " + body[5:]}
                        )
                    )


class ActiveCustomer:
    def __init__(self, socket: Any, number: int) -> None:
        self.socket = socket
        self.number = number
        self.sent: dict[str, float] = {}
        self.round_trips: list[float] = []
        self.owned = asyncio.Event()

    async def listen(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if message["type"] == "state" and message["session"]["status"] == "active":
                self.owned.set()
            elif message["type"] == "event" and message["event"]["type"] == "Chat Message":
                body = message["event"]["body"] or ""
                if body.startswith("pong "):
                    started = self.sent.pop(body[5:], None)
                    if started is not None:
                        self.round_trips.append(time.perf_counter() - started)

    async def alone(self, lines: int) -> list[float]:
        """Round trips of this customer chatting with nobody else talking: the baseline."""
        for n in range(lines):
            tag = f"{self.number}-quiet{n}"
            self.sent[tag] = time.perf_counter()
            await self.socket.send(json.dumps({"type": "chat", "ref": tag, "body": "ping " + tag}))
            while tag in self.sent:
                await asyncio.sleep(0.001)
        quiet = self.round_trips[-lines:]
        del self.round_trips[-lines:]
        return quiet

    async def chat(self, interval: float, until: float) -> None:
        await asyncio.sleep(random.uniform(0, interval))
        n = 0
        while time.perf_counter() < until:
            n += 1
            tag = f"{self.number}-{n}"
            self.sent[tag] = time.perf_counter()
            await self.socket.send(json.dumps({"type": "chat", "ref": tag, "body": "ping " + tag}))
            await asyncio.sleep(interval)


async def load(args: argparse.Namespace, base: str, ws_base: str, team: int, server_pid: int) -> None:
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    started = time.perf_counter()
    cookies = [await sign_in(base, f"rep{n:03d}") for n in range(args.reps)]
    reps = []
    for cookie in cookies:
        socket = await websockets.connect(
            f"{ws_base}/ws/console",
            ssl=TLS,
            additional_headers={"Cookie": cookie},
            max_size=None,
            open_timeout=OPEN_TIMEOUT,
            ping_interval=BROWSER,
        )
        await socket.send(json.dumps({"type": "hello"}))
        await receive(socket, {"welcome"})
        reps.append(Rep(socket))
    rep_tasks = [asyncio.create_task(rep.run()) for rep in reps]
    # On duty for the waiting room, never taking: its console only reads what it is sent.
    watcher = await websockets.connect(
        f"{ws_base}/ws/console",
        ssl=TLS,
        additional_headers={"Cookie": await sign_in(base, "watcher")},
        max_size=None,
        ping_interval=BROWSER,
    )
    await watcher.send(json.dumps({"type": "hello"}))
    await receive(watcher, {"welcome"})
    rep_tasks.append(asyncio.create_task(drain(watcher)))
    print(f"{args.reps} reps logged in ({time.perf_counter() - started:.1f}s)", flush=True)

    started = time.perf_counter()
    idle = await arrive(
        base,
        ws_base,
        args.idle,
        lambda n: {"issue_menu": "1", "codeName": "waiting_room", "customer_name": f"Idle {n}"},
        limit,
    )
    idle_sockets = [socket for socket, _ in idle]
    print(f"{args.idle} idle customers waiting ({time.perf_counter() - started:.1f}s)", flush=True)

    started = time.perf_counter()
    attached = await arrive(
        base,
        ws_base,
        args.active,
        lambda n: {"id": str(2 + n % args.reps), "name": f"Rep {n % args.reps:03d}", "customer_name": f"Active {n}"},
        limit,
    )
    active_sockets = [socket for socket, _ in attached]
    customers = [ActiveCustomer(socket, n) for n, socket in enumerate(active_sockets)]
    for customer, (_, status) in zip(customers, attached, strict=True):
        if status == "active":  # its rep took it before the client attached
            customer.owned.set()
    listeners = [asyncio.create_task(c.listen()) for c in customers]
    await asyncio.wait_for(asyncio.gather(*(c.owned.wait() for c in customers)), timeout=300)
    print(f"{args.active} active customers taken by their reps ({time.perf_counter() - started:.1f}s)", flush=True)

    settle_rss = rss_mb(server_pid)[0]
    # This process holds every socket too: its own full collections would stop it for
    # hundreds of ms and count against the appliance's round trips.
    gc.collect()
    gc.freeze()
    quiet = statistics.median(await customers[0].alone(BASELINE_LINES))
    until = time.perf_counter() + args.duration
    await asyncio.gather(*(c.chat(args.interval, until) for c in customers))
    await asyncio.sleep(2)
    loaded_rss, peak_rss = rss_mb(server_pid)
    trips = sorted(t for c in customers for t in c.round_trips)
    lost = sum(len(c.sent) for c in customers)

    def ms(value: float) -> str:
        return f"{value * 1000:.1f} ms"

    print()
    print(
        f"one appliance process, SQLite; {args.active} customers chatting (a line each every {args.interval:g}s, "
        f"answered at once) + {args.idle} waiting, {args.reps} reps, {args.duration}s"
    )
    print(f"  chat round trips: {len(trips)} ({len(trips) / args.duration:.0f}/s), unanswered at the end: {lost}")
    print(f"  baseline: one customer chatting alone p50 {ms(quiet)}")
    if trips:
        figures = [
            ("p50", statistics.median(trips)),
            ("p99", percentile(trips, 0.99)),
            ("p99.9", percentile(trips, 0.999)),
            ("max", trips[-1]),
        ]
        print("  round trip " + ", ".join(f"{name} {ms(value)}" for name, value in figures))
        print("  of the baseline: " + ", ".join(f"{name} {value / quiet:.2f}" for name, value in figures))
    print(
        f"  server memory: idle {args.idle_rss:.0f} MB; with everyone connected {settle_rss:.0f} MB; "
        f"after the chat {loaded_rss:.0f} MB (peak {peak_rss:.0f} MB)"
    )
    # Figures first: closing ten thousand sockets takes a while and measures nothing.
    for task in [*rep_tasks, *listeners]:
        task.cancel()
    sockets = [*idle_sockets, *active_sockets, *(rep.socket for rep in reps), watcher]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True), 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--active", type=int, default=1000)
    parser.add_argument("--idle", type=int, default=9000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--duration", type=int, default=30)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with tempfile.TemporaryDirectory(prefix="lifeline-live-") as tmp:
        data_dir = Path(tmp) / "data"
        env = {**os.environ, "LIFELINE_DATA_DIR": str(data_dir), "LIFELINE_ADMIN_PASSWORD": "bench-admin-password"}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        os.environ["LIFELINE_ADMIN_PASSWORD"] = env["LIFELINE_ADMIN_PASSWORD"]
        team = provision(data_dir, args.reps)
        # Every customer and rep connects from 127.0.0.1: lift the per-address cap above them.
        env["LIFELINE_MAX_CONNECTIONS_PER_ADDRESS"] = str(args.active + args.idle + args.reps + 100)
        port, http_port = free_port(), free_port()
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
            stderr=(Path(tmp) / "serve.log").open("wb"),
        )
        try:
            base = f"https://127.0.0.1:{port}"
            wait_for(f"http://127.0.0.1:{http_port}/check_health")
            time.sleep(1)
            args.idle_rss = rss_mb(server.pid)[0]
            asyncio.run(load(args, base, f"wss://127.0.0.1:{port}", team, server.pid))
        except BaseException:
            print((Path(tmp) / "serve.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
