"""Faults under steady load: appliance nodes behind HAProxy on a private PostgreSQL and Redis,
reps and customers chatting through HAProxy, while nodes are killed (kill -9) and started
again at random, and Redis is restarted now and then. Afterwards every chat line the
appliance acknowledged is looked for in the Reporting API.

    .venv/bin/python -m bench.faults [--duration 600] [--nodes 3] [--reps 4] [--customers 24]
                                      [--interval 1] [--kill-every 30] [--down 5]
                                      [--redis-every 0] [--seed N]

Prints the lines acknowledged, the lines lost (the aim is none), the worst reconnect time
(from a socket dropping to its welcome from another node), and the faults done. A line
whose acknowledgement never came (its socket dropped first) is not counted either way: the
sender cannot know, as a person would resend it. Exits with status 1 when a line was lost.
PostgreSQL and Redis are private to the run (bench/services.py), on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import resource
import shutil
import signal
import ssl
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from lxml import etree
from sqlalchemy.orm import Session

from bench.cluster import ADMIN_PASSWORD, Cluster, create_database, haproxy_available
from bench.services import PrivatePostgres, PrivateRedis, available
from lifeline.appliance.settings import set_setting
from lifeline.bootstrap import open_database
from lifeline.config import Config, normalize_database_url
from lifeline.directory import actions as directory
from lifeline.directory.passwords import hash_password

REP_PASSWORD = "rep-password-1"
# Through HAProxy to the nodes' own self-signed certificate, on loopback.
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE
BROWSER = {"Accept": "text/html,*/*;q=0.8"}
RETRY_SECONDS = 0.2  # between attempts to reconnect
DROPPED = (websockets.ConnectionClosed, OSError, TimeoutError, websockets.InvalidStatus, websockets.InvalidHandshake)


@dataclass
class Tally:
    """What the load saw: acknowledged lines by session, reconnect times, faults."""

    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    refused: int = 0  # acknowledged with ok=false (an error answer, not a loss)
    reconnects: list[tuple[float, str]] = field(default_factory=list)  # (seconds, who and when)
    kills: int = 0
    redis_restarts: int = 0
    running: bool = True

    def reconnected(self, dropped_at: float | None, who: str) -> None:
        if dropped_at is not None:
            self.reconnects.append((time.monotonic() - dropped_at, f"{who} at {time.strftime('%H:%M:%S')}"))


def provision(data_dir: Path, database_url: str, reps: int) -> list[tuple[int, str]]:
    """Reps who take their own customers; (user id, display name) of each."""
    db = open_database(Config(data_dir=data_dir, database_url=normalize_database_url(database_url)))
    shared = hash_password(REP_PASSWORD)

    def work(session: Session) -> list[tuple[int, str]]:
        users = [
            directory.User(
                username=f"rep{n:02d}",
                password_hash=shared,
                display_name=f"Rep {n:02d}",
                perm_support=True,
                perm_show_on_rep_list=True,
            )
            for n in range(reps)
        ]
        session.add_all(users)
        set_setting(session, "session_starts_per_address", "0")  # every customer comes from 127.0.0.1
        set_setting(session, "customer_reconnect_seconds", "120")
        session.flush()
        return [(user.id, user.display_name) for user in users]

    people = db.call(work)
    db.close()
    return people


async def receive(socket: Any, wanted: set[str]) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await socket.recv())
        if message["type"] in wanted:
            return message


class Reconnecting:
    """A socket's owner that connects again whenever its socket drops (`_serve` is one
    connection's life), remembering when and how it dropped until it is welcomed again."""

    tally: Tally
    pending: dict[str, Any]
    dropped_at: float | None
    why: str

    async def _serve(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        while self.tally.running:
            try:
                await self._serve()
                why = "closed"
            except DROPPED as error:
                why = repr(error)[:120]
            self.pending.clear()  # their outcome is unknown: not counted either way
            if self.dropped_at is None:
                self.dropped_at, self.why = time.monotonic(), why
            await asyncio.sleep(RETRY_SECONDS)


class Rep(Reconnecting):
    """A console that takes its customers and answers each of their lines; reconnects (and
    resumes its connection) whenever its socket drops."""

    def __init__(self, base: str, username: str, tally: Tally) -> None:
        self.base = base
        self.username = username
        self.tally = tally
        self.cookie = ""
        self.resume_token: str | None = None
        self.last_event_ids: dict[str, int] = {}
        self.pending: dict[str, tuple[str, str]] = {}  # ref -> (lsid, body)
        self.seq = 0
        self.dropped_at: float | None = None  # when its socket dropped, until welcomed again
        self.why = ""  # how it dropped
        self.welcomed = asyncio.Event()
        self.taking: set[str] = set()

    async def sign_in(self) -> None:
        for _attempt in range(10):  # a connection HAProxy could not hand to a node: as a browser, again
            with contextlib.suppress(httpx.TransportError):
                await self._sign_in()
                return
            await asyncio.sleep(RETRY_SECONDS)
        await self._sign_in()

    async def _sign_in(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, verify=TLS, timeout=30) as client:
            page = await client.get("/console/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None, page.text[:300]
            response = await client.post(
                "/console/login", data={"csrf": csrf.group(1), "username": self.username, "password": REP_PASSWORD}
            )
            assert response.status_code == 303, response.text[:300]
            self.cookie = f"lifeline_session={client.cookies['lifeline_session']}"

    async def _serve(self) -> None:
        ws_base = self.base.replace("https://", "wss://")
        async with websockets.connect(
            f"{ws_base}/ws/console", ssl=TLS, additional_headers={"Cookie": self.cookie}, open_timeout=10
        ) as socket:
            hello: dict[str, Any] = {"type": "hello", "last_event_ids": self.last_event_ids}
            if self.resume_token:
                hello["resume_token"] = self.resume_token
            await socket.send(json.dumps(hello))
            welcome = await asyncio.wait_for(receive(socket, {"welcome"}), 10)
            self.tally.reconnected(self.dropped_at, f"{self.username} ({self.why})")
            self.dropped_at = None
            self.resume_token = welcome["resume_token"]
            self.welcomed.set()
            for state in welcome["sessions"]:
                await self._session(socket, state)
            for lsid, events in welcome["history"].items():
                for event in events:
                    await self._event(socket, lsid, event)
            async for raw in socket:
                message = json.loads(raw)
                if message["type"] == "session":
                    await self._session(socket, message["session"])
                elif message["type"] == "event":
                    await self._event(socket, message["lsid"], message["event"])
                elif message["type"] == "ack" and message.get("ref") in self.pending:
                    lsid, body = self.pending.pop(message["ref"])
                    if message.get("ok"):
                        self.tally.acknowledged[lsid].add(body)
                    else:
                        self.tally.refused += 1

    async def _session(self, socket: Any, state: dict[str, Any]) -> None:
        if state["status"] == "waiting" and state["lsid"] not in self.taking:
            self.taking.add(state["lsid"])  # once: a second take of the same session is a mistake
            self.seq += 1
            await socket.send(json.dumps({"type": "take", "ref": f"take{self.seq}", "lsid": state["lsid"]}))

    async def _event(self, socket: Any, lsid: str, event: dict[str, Any]) -> None:
        self.last_event_ids[lsid] = max(self.last_event_ids.get(lsid, 0), event["id"])
        body = event.get("body") or ""
        if event["type"] == "Chat Message" and body.startswith("ping "):
            self.seq += 1
            ref = f"c{self.seq}"
            answer = f"pong {body[5:]}"
            self.pending[ref] = (lsid, answer)
            await socket.send(json.dumps({"type": "chat", "ref": ref, "lsid": lsid, "body": answer}))


class Customer(Reconnecting):
    """A customer who picked a rep and sends a line every `interval` seconds; reconnects with
    its token (from the last event it saw) whenever its socket drops."""

    def __init__(self, base: str, number: int, rep: tuple[int, str], interval: float, tally: Tally) -> None:
        self.base = base
        self.number = number
        self.rep = rep
        self.interval = interval
        self.tally = tally
        self.token = ""
        self.lsid = ""
        self.last_event_id = 0
        self.pending: dict[str, str] = {}  # ref -> body
        self.sent = 0
        self.dropped_at: float | None = None
        self.why = ""

    async def arrive(self, client: httpx.AsyncClient) -> None:
        data = {"id": str(self.rep[0]), "name": self.rep[1], "customer_name": f"Customer {self.number}"}
        for _attempt in range(20):  # until every node has seen the rep log in
            try:
                response = await client.post("/api/start_session", data=data)
            except httpx.TransportError:
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if response.status_code == 303:
                self.token = response.headers["location"].rsplit("/", 1)[1]
                return
            await asyncio.sleep(0.25)
        raise RuntimeError(f"customer {self.number} could not start a session: {response.text[:300]}")

    async def _serve(self) -> None:
        ws_base = self.base.replace("https://", "wss://")
        async with websockets.connect(f"{ws_base}/ws/customer", ssl=TLS, open_timeout=10) as socket:
            await socket.send(json.dumps({"type": "hello", "token": self.token, "last_event_id": self.last_event_id}))
            welcome = await asyncio.wait_for(receive(socket, {"welcome"}), 10)
            self.tally.reconnected(self.dropped_at, f"customer {self.number} ({self.why})")
            self.dropped_at = None
            self.lsid = welcome["session"]["lsid"]
            for event in welcome["history"]:
                self.last_event_id = max(self.last_event_id, event["id"])
            sender = asyncio.create_task(self._send(socket))
            try:
                async for raw in socket:
                    message = json.loads(raw)
                    if message["type"] == "event":
                        self.last_event_id = max(self.last_event_id, message["event"]["id"])
                    elif message["type"] == "ack" and message.get("ref") in self.pending:
                        body = self.pending.pop(message["ref"])
                        if message.get("ok"):
                            self.tally.acknowledged[self.lsid].add(body)
                        else:
                            self.tally.refused += 1
            finally:
                sender.cancel()

    async def _send(self, socket: Any) -> None:
        await asyncio.sleep(random.uniform(0, self.interval))
        while self.tally.running:
            self.sent += 1
            ref = f"{self.number}-{self.sent}"
            body = f"ping {ref}"
            self.pending[ref] = body
            await socket.send(json.dumps({"type": "chat", "ref": ref, "body": body}))
            await asyncio.sleep(self.interval)


async def inject_faults(args: argparse.Namespace, cluster: Cluster, redis: PrivateRedis, tally: Tally) -> None:
    """One node down at a time (the others keep serving); Redis now and then. A fault under
    way is seen through (the node back in rotation) before this returns."""
    until = time.monotonic() + args.duration
    next_redis = time.monotonic() + args.redis_every if args.redis_every else float("inf")
    while True:
        pause = args.kill_every * random.uniform(0.5, 1.5)
        if time.monotonic() + pause + args.down > until:
            return
        await asyncio.sleep(pause)
        index = random.randrange(len(cluster.nodes))
        await asyncio.to_thread(cluster.kill, index)
        tally.kills += 1
        print(f"  {time.strftime('%H:%M:%S')} killed node{index}", flush=True)
        await asyncio.sleep(args.down)
        await asyncio.to_thread(cluster.restart, index)
        print(f"  {time.strftime('%H:%M:%S')} node{index} back in rotation", flush=True)
        if time.monotonic() >= next_redis:
            await asyncio.to_thread(redis.restart, 1.0)
            tally.redis_restarts += 1
            next_redis = time.monotonic() + args.redis_every
            print(f"  {time.strftime('%H:%M:%S')} restarted Redis", flush=True)


async def watch_rotation(cluster: Cluster, tally: Tally) -> None:
    """Print each change in HAProxy's view of the nodes: a node out of rotation that was not
    killed is a fault of its own (a health check too slow on a busy machine)."""
    seen: dict[str, str] = {}
    while tally.running:
        with contextlib.suppress(httpx.HTTPError):
            stats = await asyncio.to_thread(cluster.server_stats)
            for name, row in stats.items():
                status = row["status"].split()[0]
                if seen.get(name, "UP") != status:
                    detail = row.get("check_status", "") + " " + row.get("last_chk", "")
                    print(f"  {time.strftime('%H:%M:%S')} HAProxy: {name} {status} ({detail.strip()})", flush=True)
                seen[name] = status
        await asyncio.sleep(0.5)


async def load(args: argparse.Namespace, cluster: Cluster, redis: PrivateRedis, reps: list[tuple[int, str]]) -> Tally:
    tally = Tally()
    consoles = [Rep(cluster.url, f"rep{n:02d}", tally) for n in range(len(reps))]
    for console in consoles:
        await console.sign_in()
    console_tasks = [asyncio.create_task(console.run()) for console in consoles]
    await asyncio.wait_for(asyncio.gather(*(console.welcomed.wait() for console in consoles)), 60)
    customers = [Customer(cluster.url, n, reps[n % len(reps)], args.interval, tally) for n in range(args.customers)]
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=cluster.url, verify=TLS, timeout=30, headers=BROWSER, limits=limits
    ) as client:
        for customer in customers:
            await customer.arrive(client)
    customer_tasks = [asyncio.create_task(customer.run()) for customer in customers]
    print(f"{len(consoles)} reps and {len(customers)} customers chatting through HAProxy", flush=True)
    faults = asyncio.create_task(inject_faults(args, cluster, redis, tally))
    watcher = asyncio.create_task(watch_rotation(cluster, tally))
    await asyncio.sleep(args.duration)
    await faults  # the last fault seen through: every node serving again
    tally.running = False
    await asyncio.sleep(1)  # acknowledgements on their way
    for task in [*console_tasks, *customer_tasks]:
        task.cancel()
    await asyncio.gather(*console_tasks, *customer_tasks, watcher, return_exceptions=True)
    return tally


def lines_reported(base: str, lsids: list[str]) -> dict[str, set[str]]:
    """Each session's chat lines as the Reporting API gives them."""
    found: dict[str, set[str]] = {}
    with httpx.Client(base_url=base, verify=TLS, timeout=60) as client:
        for lsid in lsids:
            response = client.get(
                "/api/reporting",
                params={
                    "username": "admin",
                    "password": ADMIN_PASSWORD,
                    "generate_report": "SupportSession",
                    "lsid": lsid,
                },
            )
            response.raise_for_status()
            root = etree.fromstring(response.content)
            found[lsid] = {
                body.text or ""
                for event in root.iter("{*}event")
                if event.get("event_type") == "Chat Message"
                for body in event.iter("{*}body")
            }
    return found


def report(args: argparse.Namespace, tally: Tally, reported: dict[str, set[str]]) -> int:
    acknowledged = sum(len(lines) for lines in tally.acknowledged.values())
    lost = sorted(line for lsid, lines in tally.acknowledged.items() for line in lines - reported.get(lsid, set()))
    worst = sorted(tally.reconnects, reverse=True)
    print()
    print(
        f"{args.nodes} nodes behind HAProxy, private PostgreSQL and Redis; {args.reps} reps, {args.customers} "
        f"customers (a line each every {args.interval:g} s, each answered by its rep), {args.duration} s"
    )
    print(
        f"  faults: {tally.kills} node kills (kill -9, back after {args.down:g} s), {tally.redis_restarts} Redis restarts"
    )
    print(f"  chat lines acknowledged: {acknowledged}; refused with an error: {tally.refused}")
    print(f"  chat lines lost: {len(lost)}" + (f" (first: {lost[:5]})" if lost else ""))
    median = worst[len(worst) // 2][0] if worst else 0.0
    print(
        f"  reconnects: {len(tally.reconnects)}, median {median:.2f} s, worst reconnect {worst[0][0] if worst else 0:.2f} s"
    )
    for seconds, who in worst[:3]:
        print(f"    {seconds:.2f} s: {who}")
    return 1 if lost else 0


def print_tracebacks(cluster: Cluster) -> None:
    """How many stack traces the nodes logged, and the first of each kind (the aim is none)."""
    kinds: dict[str, str] = {}
    count = 0
    for node in cluster.nodes:
        for trace in re.findall(r"Traceback \(most recent call last\):\n(?:[ \t].*\n)+\S.*", node.log_tail(10**9)):
            count += 1
            kinds.setdefault(trace.rsplit("\n", 1)[-1], trace)
    print(f"  stack traces in the nodes' logs: {count}")
    for trace in kinds.values():
        print("    " + trace.replace("\n", "\n    ")[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=600)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--customers", type=int, default=24)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between a customer's lines")
    parser.add_argument("--kill-every", type=float, default=30.0, help="seconds between node kills, on average")
    parser.add_argument("--down", type=float, default=5.0, help="seconds a killed node stays down")
    parser.add_argument("--redis-every", type=float, default=0.0, help="restart Redis this often (0: never)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--logs", type=Path, default=None, help="copy the nodes' and HAProxy's logs here")
    args = parser.parse_args()
    missing = available() or ("" if haproxy_available() else "needs haproxy")
    if missing:
        sys.exit(f"bench.faults {missing}")
    if args.nodes < 2:
        sys.exit("bench.faults needs two nodes or more: one is always down for a while")
    random.seed(args.seed)
    # Stopped with kill (or started in the background, where SIGINT is ignored): still stop
    # the nodes, HAProxy, Redis and PostgreSQL on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    postgres, redis = PrivatePostgres(), PrivateRedis()
    with tempfile.TemporaryDirectory(prefix="lifeline-faults-") as tmp:
        postgres.start()
        redis.start()
        database_url = create_database(postgres.url)
        env = {"LIFELINE_MAX_CONNECTIONS_PER_ADDRESS": str(10 * (args.reps + args.customers) + 100)}
        cluster = Cluster(Path(tmp) / "data", database_url=database_url, redis_url=redis.url, size=args.nodes, env=env)
        status = 1
        try:
            cluster.start()
            reps = provision(cluster.data_dir, database_url, args.reps)
            tally = asyncio.run(load(args, cluster, redis, reps))
            status = report(args, tally, lines_reported(cluster.url, sorted(tally.acknowledged)))
            print_tracebacks(cluster)
        except BaseException:
            for node in cluster.nodes:
                print(f"--- {node.name}\n{node.log_tail(3000)}", file=sys.stderr)
            raise
        finally:
            cluster.stop()
            if args.logs is not None:
                args.logs.mkdir(parents=True, exist_ok=True)
                for log in cluster.data_dir.glob("*.log"):
                    shutil.copy(log, args.logs / log.name)
            redis.stop()
            postgres.remove()
    sys.exit(status)


if __name__ == "__main__":
    os.environ.setdefault("LIFELINE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    main()
