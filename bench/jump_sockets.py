"""What Jump Client sockets cost one appliance process: N installations (made straight in the
database, each with its own Ed25519 key) connect to `/ws/jump` through the connect rate, say
hello, send statistics, and stay. Prints the connect time and the server's memory at rest
before and with them all connected (per socket), and its CPU over a quiet minute's share.

    .venv/bin/python -m bench.jump_sockets --clients 2000

The full bench of issue 16 (20,000 clients from several generator processes, the reconnect
storm, the Jump search, Jump to shell) grows from this one."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lifeline_protocol import encode
from lifeline_protocol import jump as wire
from lifeline_protocol.computer import Computer
from sqlalchemy.orm import Session

from bench.command_api import free_port, wait_for
from bench.live_sessions import rss_mb
from lifeline.appliance.settings import set_setting
from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config
from lifeline.jump.models import JumpClient, JumpGroup

TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE
CONNECT_CONCURRENCY = 200


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def provision(data_dir: Path, count: int, rate: int) -> list[tuple[int, Ed25519PrivateKey]]:
    db = open_database(Config(data_dir=data_dir))
    db.call(ensure_appliance, "bench.example.com")
    keys = [Ed25519PrivateKey.generate() for _ in range(count)]

    def work(session: Session) -> list[int]:
        group = JumpGroup(name="Bench")
        session.add(group)
        session.flush()
        rows = [
            JumpClient(
                public_key=b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)),
                jump_group_id=group.id,
                name=f"bench-{n:05d}",
                hostname=f"bench-{n:05d}",
            )
            for n, key in enumerate(keys)
        ]
        session.add_all(rows)
        set_setting(session, "jump_connect_rate", str(rate))
        set_setting(session, "jump_statistics_interval", "5")
        session.flush()
        return [row.id for row in rows]

    ids = db.call(work)
    db.close()
    return list(zip(ids, keys, strict=True))


async def connect_one(url: str, origin: str, jump_id: int, key: Ed25519PrivateKey, limit: asyncio.Semaphore) -> Any:
    """Connect until welcomed: a 1013 (over the connect rate) waits a little and tries again."""
    while True:
        async with limit:
            socket = await websockets.connect(url, ssl=TLS, open_timeout=60, max_size=2**20)
            try:
                challenge = json.loads(await socket.recv())
                signed = b64(key.sign(wire.signed_text(challenge["nonce"], jump_id, origin)))
                hello = wire.Hello(id=jump_id, signature=signed, computer=Computer(hostname=f"bench-{jump_id}"))
                await socket.send(encode(hello).decode())
                await socket.recv()
                await socket.send(encode(wire.Statistics(cpu=3.0, disk=40.0, uptime=100, console_user="x")).decode())
                return socket
            except websockets.ConnectionClosed:
                pass
        await asyncio.sleep(0.2 + (jump_id % 10) / 10)


async def load(args: argparse.Namespace, port: int, server_pid: int, clients: list[tuple[int, Any]]) -> None:
    url, origin = f"wss://127.0.0.1:{port}/ws/jump", f"https://127.0.0.1:{port}"
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    idle = rss_mb(server_pid)[0]
    started = time.perf_counter()
    sockets = await asyncio.gather(*(connect_one(url, origin, i, key, limit) for i, key in clients))
    took = time.perf_counter() - started
    await asyncio.sleep(10)  # the statistics are written, the server settles
    cpu_before = _cpu_seconds(server_pid)
    await asyncio.sleep(args.quiet)
    cpu = (_cpu_seconds(server_pid) - cpu_before) / args.quiet * 100
    loaded = rss_mb(server_pid)[0]
    print(f"Jump sockets: {len(sockets)} connected in {took:.1f} s (connect rate {args.rate}/s)")
    print(
        f"  server memory: idle {idle:.0f} MB, with them {loaded:.0f} MB: "
        f"{(loaded - idle) * 1024 / len(sockets):.1f} KB a socket"
    )
    print(f"  server CPU at rest (pings, statistics every 5 s): {cpu:.1f}% of a core")
    for socket in sockets:
        await socket.close()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=200, help="the jump_connect_rate setting")
    parser.add_argument("--quiet", type=float, default=20, help="seconds of rest the CPU is measured over")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = {**os.environ, "LIFELINE_DATA_DIR": str(data_dir), "LIFELINE_ADMIN_PASSWORD": "bench-admin-password"}
        env["LIFELINE_MAX_CONNECTIONS_PER_ADDRESS"] = str(args.clients + 100)
        os.environ["LIFELINE_ADMIN_PASSWORD"] = env["LIFELINE_ADMIN_PASSWORD"]
        clients = provision(data_dir, args.clients, args.rate)
        port, http_port = free_port(), free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lifeline",
                "serve",
                "--hostname",
                "bench.example.com",
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
            wait_for(f"http://127.0.0.1:{http_port}/check_health")
            asyncio.run(load(args, port, server.pid, clients))
        except BaseException:
            print((Path(tmp) / "serve.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
