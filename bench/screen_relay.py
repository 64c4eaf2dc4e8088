"""How many screens one appliance process relays: N shares at about 1 Mbit/s each, from
protocol-speaking client sockets to a watching console each, on one `lifeline serve`.

    .venv/bin/python -m bench.screen_relay [--steps 1,25,50,100,200] [--seconds 8]
                                           [--kbits 1000] [--fps 15] [--reps 10]

For each session a rep's link starts it, a client socket says hello with the customer's
token (allowing the screen), the rep takes it, asks for the screen (`screen_start`) and
watches it (`screen_watch`). Each share then sends frames of kbits/fps/8 bytes at `--fps`
(a key frame every 5 s, as the real client does): the payloads are not pictures, the
appliance never decodes them, and each carries the time it was sent, so the console that
receives it knows how long the appliance took to relay it (one clock: this process). The
shares are started in steps (`--steps`, cumulative); each step measures the relay delay's
p50/p99 over `--seconds`, the appliance's CPU, and frames lost. The first step (one share)
is the baseline: "added" is a step's p99 minus the baseline's p50. The answer is the
largest step whose added p99 stays under 20 ms. Loopback only; stops by itself. This
process is also the load: on a machine of few cores it competes with the appliance, so the
figure is a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from lifeline_protocol import binary

from bench.client import cpu_seconds, percentile, provision, start_session
from bench.command_api import free_port, wait_for
from bench.live_sessions import OPEN_TIMEOUT, TLS, sign_in

ADDED_P99_AIM_MS = 20.0
KEY_EVERY_SECONDS = 5.0
WIDTH, HEIGHT = 1280, 800
STAMP = struct.Struct("!d")  # the send time, in the payload after the VP8-like start


def payload(size: int, key: bool) -> bytearray:
    """A frame's bytes: a VP8 key frame starts with its tag, start code and size (the
    appliance reads a key frame's size for the recording); the send time follows."""
    data = bytearray(max(size, 32))
    if key:
        data[0:3] = b"\x00\x00\x00"  # frame tag: bit 0 clear = key frame
        data[3:6] = b"\x9d\x01\x2a"
        data[6:10] = struct.pack("<HH", WIDTH, HEIGHT)
    else:
        data[0:3] = b"\x01\x00\x00"
    return data


class Share:
    """One session: the client socket sending its screen, and the lsid the console watches."""

    def __init__(self, socket: Any, lsid: str) -> None:
        self.socket = socket
        self.lsid = lsid
        self.stream = 0
        self.started = asyncio.Event()
        self.key_wanted = True
        self.sent = 0

    async def answer(self) -> None:
        """The appliance's requests: start_screen (answered as a client does), key_frame."""
        async for raw in self.socket:
            if isinstance(raw, bytes):
                continue
            message = json.loads(raw)
            if message["type"] == "start_screen":
                self.stream = int(message["stream"])
                await self.socket.send(
                    json.dumps(
                        {
                            "type": "screen_started",
                            "stream": self.stream,
                            "codec": "vp8",
                            "width": WIDTH,
                            "height": HEIGHT,
                            "monitor": 1,
                        }
                    )
                )
                await self.socket.send(json.dumps({"type": "done", "request": message["request"]}))
                self.started.set()
            elif message["type"] == "key_frame":
                self.key_wanted = True

    async def send_frames(self, size: int, fps: int, until: float) -> None:
        period = 1 / fps
        # Real shares tick out of phase with each other: start at a random point of the period
        # (all at once, the last of N frames sent together would wait for the N-1 before it).
        await asyncio.sleep(random.uniform(0, period))
        began = time.perf_counter()
        last_key = 0.0
        tick = began
        while (now := time.perf_counter()) < until:
            key = self.key_wanted or now - last_key >= KEY_EVERY_SECONDS
            if key:
                self.key_wanted, last_key = False, now
            data = payload(size, key)
            STAMP.pack_into(data, 10, time.perf_counter())
            self.sent += 1
            header = binary.Header(
                binary.FrameKind.SCREEN, self.stream, self.sent, int((now - began) * 1000) & binary.MAX_NUMBER, key=key
            )
            await self.socket.send(binary.pack(header, bytes(data)))
            tick += period
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))


class Viewer:
    """A rep's console over /ws/console: takes sessions, watches their screens, and times
    each frame from its send to its arrival."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.refs = 0
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.active: dict[str, asyncio.Event] = {}  # customer name -> taken
        self.lsids: dict[str, str] = {}
        self.delays: list[float] = []
        self.frames = 0

    @classmethod
    async def open(cls, base: str, username: str) -> Viewer:
        cookie = await sign_in(base, username)
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

    async def request(self, message: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        self.refs += 1
        ref = f"r{self.refs}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.acks[ref] = future
        await self.socket.send(json.dumps({**message, "ref": ref}))
        try:
            answer = await asyncio.wait_for(future, timeout)
        finally:
            self.acks.pop(ref, None)
        if not answer.get("ok"):
            raise RuntimeError(f"{message['type']} refused: {answer.get('error')}")
        return answer

    async def run(self) -> None:
        async for raw in self.socket:
            if isinstance(raw, bytes):
                arrived = time.perf_counter()
                header = binary.unpack_header(raw)
                if header.kind is binary.FrameKind.SCREEN:
                    (sent,) = STAMP.unpack_from(raw, binary.HEADER_SIZE + 10)
                    self.delays.append(arrived - sent)
                    self.frames += 1
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
                if name not in self.active:
                    continue
                if state["status"] == "waiting":
                    self.refs += 1
                    await self.socket.send(json.dumps({"type": "take", "ref": f"t{self.refs}", "lsid": state["lsid"]}))
                elif state["status"] == "active":
                    self.lsids[name] = state["lsid"]
                    self.active[name].set()


async def open_share(
    http: httpx.AsyncClient, base: str, viewer: Viewer, rep: tuple[int, str], n: int
) -> tuple[Share, Viewer]:
    name = f"Customer {n:04d}"
    taken = viewer.active.setdefault(name, asyncio.Event())
    path = await start_session(http, rep[0], rep[1], name)
    token = path.rsplit("/", 1)[-1]
    socket = await websockets.connect(
        base.replace("https://", "wss://") + "/ws/client", ssl=TLS, max_size=None, open_timeout=OPEN_TIMEOUT
    )
    await socket.send(
        json.dumps(
            {
                "type": "hello",
                "token": token,
                "computer": {"hostname": f"bench-{n}", "os": "Bench", "platform": "linux"},
                "allowed": ["screen"],
                "flag": True,
                "version": 1,
            }
        )
    )
    welcome = json.loads(await socket.recv())
    if welcome["type"] != "welcome":
        raise RuntimeError(f"the client socket was refused: {welcome}")
    share = Share(socket, "")
    asyncio.get_running_loop().create_task(share.answer())
    await asyncio.wait_for(taken.wait(), 30)
    share.lsid = viewer.lsids[name]
    for _ in range(100):  # the computer's state reaches the console's process just after the take
        try:
            await viewer.request({"type": "screen_start", "lsid": share.lsid})
            break
        except RuntimeError as error:
            if "not connected" not in str(error) and "not allowed" not in str(error):
                raise
            await asyncio.sleep(0.1)
    await asyncio.wait_for(share.started.wait(), 30)
    await viewer.request({"type": "screen_watch", "lsid": share.lsid})
    return share, viewer


async def load(args: argparse.Namespace, base: str, server_pid: int, reps: list[tuple[int, str]]) -> None:
    viewers = [await Viewer.open(base, f"rep{n:03d}") for n in range(len(reps))]
    readers = [asyncio.create_task(viewer.run()) for viewer in viewers]
    size = args.kbits * 1000 // 8 // args.fps
    shares: list[Share] = []
    rows: list[tuple[int, float, float, float, float, int]] = []
    baseline_p50 = 0.0
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=0)
    browser = {"Accept": "text/html,*/*;q=0.8"}
    async with httpx.AsyncClient(base_url=base, verify=TLS, timeout=60, limits=limits, headers=browser) as http:
        for step in args.steps:
            while len(shares) < step:
                n = len(shares)
                share, _ = await open_share(http, base, viewers[n % len(viewers)], reps[n % len(reps)], n)
                shares.append(share)
            await asyncio.sleep(0.5)
            for viewer in viewers:
                viewer.delays.clear()
                viewer.frames = 0
            sent_before = sum(share.sent for share in shares)
            cpu_before, own_before, started = cpu_seconds(server_pid), time.process_time(), time.perf_counter()
            until = started + args.seconds
            await asyncio.gather(*(share.send_frames(size, args.fps, until) for share in shares))
            await asyncio.sleep(0.5)  # the last frames arrive
            elapsed = time.perf_counter() - started
            cpu = (cpu_seconds(server_pid) - cpu_before) / elapsed
            own = (time.process_time() - own_before) / elapsed
            delays = sorted(d for viewer in viewers for d in viewer.delays)
            sent = sum(share.sent for share in shares) - sent_before
            got = sum(viewer.frames for viewer in viewers)
            p50, p99 = percentile(delays, 0.5) * 1000, percentile(delays, 0.99) * 1000
            if not rows:
                baseline_p50 = p50
            mbits = got * size * 8 / elapsed / 1e6
            rows.append((step, p50, p99, p99 - baseline_p50, cpu, sent - got))
            print(
                f"{step:4d} shares: relay delay p50 {p50:.1f} ms, p99 {p99:.1f} ms (added {p99 - baseline_p50:.1f} ms); "
                f"{mbits:.1f} Mbit/s relayed; appliance CPU {cpu * 100:.0f}%, this load's {own * 100:.0f}%; "
                f"{sent - got} of {sent} frames not delivered",
                flush=True,
            )
    for reader in readers:
        reader.cancel()
    within = [step for step, _, _, added, _, _ in rows if added < ADDED_P99_AIM_MS]
    best = max(within) if within else 0
    per_stream = [cpu / step for step, _, _, _, cpu, _ in rows if step]
    print(
        f"relayed within {ADDED_P99_AIM_MS:.0f} ms added p99: {best} shares of {args.kbits} kbit/s "
        f"(baseline p50 {baseline_p50:.1f} ms); appliance CPU per relayed stream "
        f"{min(per_stream) * 100:.2f}%-{max(per_stream) * 100:.2f}% of a core"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="1,25,50,100,200", help="shares relayed at once, step by step")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured per step")
    parser.add_argument("--kbits", type=int, default=1000, help="each share's bitrate")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--reps", type=int, default=10, help="consoles watching the shares")
    args = parser.parse_args()
    args.steps = sorted({max(1, int(step)) for step in args.steps.split(",")})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory(prefix="lifeline-screen-relay-") as name:
        tmp = Path(name)
        data_dir = tmp / "data"
        env = {**os.environ, "LIFELINE_DATA_DIR": str(data_dir), "LIFELINE_ADMIN_PASSWORD": "bench-admin-password"}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        os.environ["LIFELINE_ADMIN_PASSWORD"] = env["LIFELINE_ADMIN_PASSWORD"]
        reps = provision(data_dir, max(1, args.reps))
        env["LIFELINE_MAX_CONNECTIONS_PER_ADDRESS"] = str(3 * max(args.steps) + args.reps + 100)
        port, http_port = free_port(), free_port()
        log = tmp / "serve.log"
        command = [sys.executable, "-m", "lifeline", "serve", "--https-port", str(port)]
        command += ["--http-port", str(http_port), "--bind", "127.0.0.1"]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        try:
            wait_for(f"http://127.0.0.1:{http_port}/check_health")
            asyncio.run(load(args, f"https://127.0.0.1:{port}", server.pid, reps))
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
