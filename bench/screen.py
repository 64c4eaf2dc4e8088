"""The customer's screen end to end, as a rep sees it: glass-to-glass latency, pictures a
second, bandwidth and CPU.

    .venv/bin/python -m bench.screen [--seconds 10] [--flips 30] [--width 1280 --height 800]

One run: `lifeline serve` (SQLite, HTTPS on loopback), a virtual X display (Xvfb) at
--width x --height with the customer's desktop on it (bench/screen_scene.py, a Tk program
driven by lines on its stdin), the real `lifeline-client attach URL --ca CERT --allow all
--no-browser` sharing that display, and the rep's console in Debian's Chromium (headless,
Playwright): the rep takes the session, opens the Screen pane and presses Show screen.

- glass-to-glass latency: the desktop flips a big block between red and blue (--flips,
  ~300 ms apart) and prints the wall clock once it has redrawn; in the console a
  requestAnimationFrame loop reads the canvas pixel at the block and notes Date.now() at
  each change of colour. latency = the page's time - the flip's time (one machine, one
  clock). Aims: p50 < 150 ms, p95 < 300 ms;
- pictures a second the console draws (screen.js's canvas.dataset.frames) and bandwidth:
  for --seconds each, on a still desktop, a counter changing 30 times a second, scrolling
  text, and a "playing video" (a moving gradient with noise, 30 pictures a second, in
  640x360). Pictures sent and bandwidth are the SCREEN frames (their payload bytes) the
  appliance records for the session, read back from its raw `.frames` log under the
  recordings directory: every frame the console is sent is recorded. Aim: a still
  desktop < 100 kbit/s;
- CPU per phase: the client process (psutil, with its children) and the appliance's.

The baseline, measured in the same run: the chat round trip over the same appliance and
client, console -> appliance -> the client's terminal chat -> its answer -> console (the
rep types `ping TAG` in the console's chat; the customer's terminal answers `pong TAG`;
the console page notes when the answer shows). It is the path a rep already waits on,
so "latency against chat" says what the picture's path (capture, encode, relay, decode,
draw) costs above it. The page's own requestAnimationFrame cadence is printed beside: it
is the resolution of the latency figure (a change is seen at the next animation frame).

Loopback only; stops by itself. The machine's other load shows in every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from playwright.async_api import Page, async_playwright

from bench.client import ClientProcess, percentile, provision, start_session
from bench.command_api import free_port, wait_for
from bench.live_sessions import TLS
from bench.screen_scene import BLOCK, place
from lifeline.recordings import screen_file
from tests.support.xvfb import start_xvfb

CHROMIUM = os.environ.get("LIFELINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LATENCY_AIMS_MS = (150.0, 300.0)  # p50, p95
STILL_AIM_KBITS = 100.0
FLIP_EVERY = 0.3  # seconds between flips
CHAT_TRIPS = 10
CUSTOMER = "Customer Screen"
TIMEOUT_MS = 60_000
SCENES = (
    ("still", "a still desktop"),
    ("count", "a counter 30 times a second"),
    ("scroll", "scrolling text"),
    ("video", "a playing video (640x360 at 1280x800)"),
)

# The canvas pixel at the block's centre, every animation frame; its changes of colour, and
# the animation frames' times (the page's cadence).
WATCH_PIXEL = """([x, y, screenWidth]) => {
  const canvas = document.querySelector("#computer .pane-screen canvas.screen-canvas");
  const context = canvas.getContext("2d");
  window.__changes = [];
  window.__ticks = [];
  let last = null;
  const look = () => {
    const now = Date.now();
    if (window.__ticks.length < 100000) window.__ticks.push(performance.now());
    if (canvas.width > 1) {
      const scale = canvas.width / screenWidth;
      const [r, , b] = context.getImageData(Math.floor(x * scale), Math.floor(y * scale), 1, 1).data;
      const colour = r > b + 60 ? "red" : b > r + 60 ? "blue" : null;
      if (colour && colour !== last) {
        last = colour;
        window.__changes.push([now, colour]);
      }
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}"""

# When each `pong TAG` line first shows in the console (a MutationObserver on the page).
WATCH_PONGS = """() => {
  window.__pongs = {};
  new MutationObserver(() => {
    const now = Date.now();
    for (const line of document.querySelectorAll(".conversation .line")) {
      const found = /pong (\\S+)/.exec(line.textContent || "");
      if (found && !(found[1] in window.__pongs)) window.__pongs[found[1]] = now;
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
}"""

FRAMES = """() => Number(document.querySelector("#computer .pane-screen canvas.screen-canvas").dataset.frames || 0)"""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


class Scene:
    """bench/screen_scene.py on the virtual display, commanded a line at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, env: dict[str, str]) -> Scene:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.screen_scene", stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        scene = cls(process)
        if await scene.line(30) != "ready":
            raise RuntimeError("the desktop program did not start")
        return scene

    async def line(self, timeout: float = 10) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not raw:
            raise RuntimeError("the desktop program ended")
        return raw.decode().strip()

    async def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()

    async def flip(self) -> tuple[str, float]:
        """Flip the block; its new colour and the wall clock once it was redrawn."""
        await self.send("flip")
        _, colour, when = (await self.line()).split()
        return colour, float(when)

    async def ticks(self) -> int:
        """How many times the desktop has been redrawn by its animation so far."""
        await self.send("ticks")
        return int((await self.line()).split()[1])

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(OSError):
                await self.send("quit")
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class Cpu:
    """CPU seconds of a process and its children, between two readings."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)

    def seconds(self) -> float:
        total = 0.0
        for one in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = one.cpu_times()
                total += times.user + times.system
        return total


def recorded(recordings: Path) -> tuple[int, int]:
    """Frames, and their bytes, in the raw screen logs the appliance appends a frame at a time."""
    frames = size = 0
    for path in recordings.rglob("*.frames"):
        for _, _, payload in screen_file.records(path):
            frames += 1
            size += len(payload)
    return frames, size


def match_flips(flips: list[tuple[str, float]], changes: list[tuple[float, str]]) -> tuple[list[float], int]:
    """Each flip's latency: the first change to its colour the page saw after it (and before
    that colour's next flip); flips never seen (a picture that held both flips) are lost."""
    latencies: list[float] = []
    lost = 0
    for n, (colour, when) in enumerate(flips):
        # The flip after next is the first to turn the block to this colour again.
        until = flips[n + 2][1] if n + 2 < len(flips) else float("inf")
        seen = [at / 1000 for at, c in changes if c == colour and when - 0.005 <= at / 1000 < until]
        if seen:
            latencies.append(max(0.0, seen[0] - when))
        else:
            lost += 1
    return latencies, lost


async def show_screen(
    page: Page, base: str, rep: tuple[int, str], program: str, cert: Path, log: Path
) -> ClientProcess:
    """The customer follows the rep's link and runs the client; the rep takes the session
    and presses Show screen; returns once the console has drawn a picture."""
    async with httpx.AsyncClient(base_url=base, verify=TLS, timeout=60, headers={"Accept": "text/html"}) as http:
        path = await start_session(http, rep[0], rep[1], CUSTOMER)
    client = await ClientProcess.start(program, base + path, cert, log, "all")
    await page.locator("li.waiting", has_text=CUSTOMER).locator("button", has_text="Take").click()
    await page.locator("#computer .computer-tab[data-pane='screen']").click()
    show = page.locator("#computer .pane-screen button.show-screen")
    await page.wait_for_function(
        """() => { const b = document.querySelector("#computer .pane-screen button.show-screen");
                   return b && !b.disabled && b.textContent === "Show screen"; }""",
        timeout=TIMEOUT_MS,
    )
    await show.click()
    await page.wait_for_function(f"() => ({FRAMES})() > 0", timeout=TIMEOUT_MS)
    return client


async def chat_round_trips(page: Page, count: int) -> list[float]:
    await page.evaluate(WATCH_PONGS)
    trips: list[float] = []
    field = page.locator(".chat-form input")
    for n in range(count):
        tag = f"t{n}"
        await field.fill(f"ping {tag}")
        sent = time.time()
        await field.press("Enter")
        await page.wait_for_function(f"() => '{tag}' in window.__pongs", timeout=10_000, polling=20)
        trips.append(await page.evaluate(f"() => window.__pongs['{tag}']") / 1000 - sent)
        await asyncio.sleep(0.1)
    return trips


async def run(
    args: argparse.Namespace, base: str, server_pid: int, rep: tuple[int, str], display_env: dict[str, str]
) -> None:
    cert = args.data_dir / "tls" / "appliance.crt"
    program = str(Path(sys.executable).with_name("lifeline-client"))
    if not Path(program).exists():
        program = shutil.which("lifeline-client") or program
    load = os.getloadavg()[0]
    os.environ["DISPLAY"] = display_env["DISPLAY"]  # the client (ClientProcess) shares this display
    scene = await Scene.start(display_env)
    client: ClientProcess | None = None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(ignore_https_errors=True, viewport={"width": 1400, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            await page.goto(base + "/console")
            await page.fill("input[name=username]", "rep000")
            await page.fill("input[name=password]", "rep-password")
            await page.click("button[type=submit]")
            await page.wait_for_function("() => document.querySelector('#connection')?.textContent === 'Online'")
            started = time.perf_counter()
            client = await show_screen(page, base, rep, program, cert, args.tmp / "client.log")
            print(
                f"the console shows the screen ({time.perf_counter() - started:.1f}s after the session started)",
                flush=True,
            )

            # Glass to glass.
            x, y, w, h = place(BLOCK, args.width, args.height)
            await page.evaluate(WATCH_PIXEL, [x + w // 2, y + h // 2, args.width])
            await asyncio.sleep(1)
            flips = []
            for _ in range(args.flips):
                flips.append(await scene.flip())
                await asyncio.sleep(FLIP_EVERY + random.uniform(-0.05, 0.05))  # not in step with the capture
            await asyncio.sleep(1)
            changes = [(float(at), str(c)) for at, c in await page.evaluate("() => window.__changes")]
            ticks: list[float] = await page.evaluate("() => window.__ticks")
            latencies, lost = match_flips(flips, changes)
            cadence = statistics.median(b - a for a, b in itertools.pairwise(ticks)) / 1000

            # The baseline: the chat round trip through the same appliance and client.
            trips = await chat_round_trips(page, args.chat)

            # Pictures a second, bandwidth and CPU, scene by scene.
            recordings = args.data_dir / "recordings"
            client_cpu, server_cpu = Cpu(client.process.pid), Cpu(server_pid)
            phases: list[tuple[str, float, float, float, float, float, float]] = []
            for command, _ in SCENES:
                await scene.send(command)
                await asyncio.sleep(1)  # the encoder settles on the new content
                frames, (sent, size), ticks_before = (
                    await page.evaluate(FRAMES),
                    recorded(recordings),
                    await scene.ticks(),
                )
                cpu_client, cpu_server, began = client_cpu.seconds(), server_cpu.seconds(), time.perf_counter()
                await asyncio.sleep(args.seconds)
                elapsed = time.perf_counter() - began
                fps = (await page.evaluate(FRAMES) - frames) / elapsed
                sent_after, size_after = recorded(recordings)
                changes_per_second = (await scene.ticks() - ticks_before) / elapsed
                kbits = (size_after - size) * 8 / elapsed / 1000
                phases.append(
                    (
                        command,
                        changes_per_second if command != "still" else 0.0,
                        (sent_after - sent) / elapsed,
                        fps,
                        kbits,
                        (client_cpu.seconds() - cpu_client) / elapsed,
                        (server_cpu.seconds() - cpu_server) / elapsed,
                    )
                )
                print(f"{command}: done", flush=True)
            await scene.send("still")
        finally:
            await browser.close()
            await scene.stop()
            if client is not None:
                await client.stop()

    print()
    print(
        f"one appliance process, SQLite; one lifeline-client sharing a {args.width}x{args.height} Xvfb display; "
        f"the rep's console in headless Chromium (software decoding and drawing); {os.cpu_count()} cores, shared "
        f"(load average {load:.1f} at the start)"
    )
    if latencies:
        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        aims = LATENCY_AIMS_MS
        print(
            f"  glass-to-glass latency ({len(flips)} flips, {FLIP_EVERY * 1000:.0f} ms apart): lost {lost}, "
            f"p50 {ms(p50)} (aim < {aims[0]:.0f} ms: {'met' if p50 * 1000 < aims[0] else 'MISSED'}), "
            f"p95 {ms(p95)} (aim < {aims[1]:.0f} ms: {'met' if p95 * 1000 < aims[1] else 'MISSED'}), "
            f"max {ms(max(latencies))}"
        )
    else:
        print(f"  glass-to-glass latency ({len(flips)} flips): lost {lost}, none seen")
    chat = statistics.median(trips)
    print(
        f"  baseline, chat round trip console -> client's terminal -> console ({len(trips)} lines): "
        f"p50 {ms(chat)}, max {ms(max(trips))}"
    )
    if latencies:
        print(
            f"  latency against chat: p50 {statistics.median(latencies) / chat:.2f} of it "
            f"(the page's animation frames come every {cadence * 1000:.1f} ms: the latency's resolution)"
        )
    for (command, drawn, sent_fps, fps, kbits, cpu_client, cpu_server), (_, words) in zip(phases, SCENES, strict=True):
        aim = ""
        if command == "still":
            aim = f" (aim < {STILL_AIM_KBITS:.0f} kbit/s: {'met' if kbits < STILL_AIM_KBITS else 'MISSED'})"
        print(
            f"  {words}, {args.seconds:g}s: the desktop changed {drawn:.1f}/s, {sent_fps:.1f} pictures/s sent, "
            f"{fps:.1f} drawn; {kbits:.0f} kbit/s{aim}; "
            f"CPU client {cpu_client * 100:.0f}%, appliance {cpu_server * 100:.0f}% of a core"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per scene")
    parser.add_argument("--flips", type=int, default=30, help="colour flips timed glass to glass")
    parser.add_argument("--chat", type=int, default=CHAT_TRIPS, help="chat round trips (the baseline)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    args.flips = max(2, args.flips)
    args.chat = max(1, args.chat)
    if shutil.which("Xvfb") is None or not Path(CHROMIUM).exists():
        sys.exit("bench.screen needs Xvfb and Chromium: run scripts/install --test")

    with tempfile.TemporaryDirectory(prefix="lifeline-screen-bench-") as name:
        args.tmp = Path(name)
        args.data_dir = args.tmp / "data"
        env = {**os.environ, "LIFELINE_DATA_DIR": str(args.data_dir), "LIFELINE_ADMIN_PASSWORD": "bench-admin-password"}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        os.environ["LIFELINE_ADMIN_PASSWORD"] = env["LIFELINE_ADMIN_PASSWORD"]
        reps = provision(args.data_dir, 1)
        port, http_port = free_port(), free_port()
        log = args.tmp / "serve.log"
        command = [sys.executable, "-m", "lifeline", "serve", "--https-port", str(port)]
        command += ["--http-port", str(http_port), "--bind", "127.0.0.1"]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        display, xvfb = start_xvfb(args.width, args.height)
        try:
            wait_for(f"http://127.0.0.1:{http_port}/check_health")
            asyncio.run(run(args, f"https://127.0.0.1:{port}", server.pid, reps[0], display.env()))
        except BaseException:
            print(log.read_text()[-3000:], file=sys.stderr)
            client_log = args.tmp / "client.log"
            if client_log.exists():
                print(client_log.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            for process in (server, xvfb):
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=15)
                if process.poll() is None:
                    process.kill()
                    process.wait()


if __name__ == "__main__":
    main()
