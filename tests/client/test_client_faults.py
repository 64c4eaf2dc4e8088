"""The appliance killed (`kill -9`) in the middle of a command shell: the real client process
and the rep's console come back by themselves, the shell carries on, and the recording
holds every byte the console was shown before the kill, once."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from lifeline_protocol import binary
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.appliance import RunningAppliance, running_appliance
from tests.support.personas import Personas, provision
from tests.support.reporting import ReportingApi
from tests.support.sockets import BROWSER, sign_in

CLIENT = Path(sys.executable).with_name("lifeline-client")
BACK_WITHIN = 5.0  # seconds from the appliance answering again to the client and console being back
# A numbered line every 20 ms, for as long as the test needs: a gap or a repeat shows in the numbers.
COUNTER = 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "line $i"; sleep 0.02; done\r'
LINE = re.compile(r"^line (\d+)\r$", re.MULTILINE)
T = TypeVar("T")


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[RunningAppliance]:
    """One of its own: this test kills it."""
    with running_appliance(tmp_path / "appliance") as running:
        yield running


@pytest.fixture
def personas(appliance: RunningAppliance) -> Personas:
    return provision(appliance)


class ShellConsole:
    """A rep's console over /ws/console (asyncio, on the test's own loop): requests with
    their acks, `computer` pushes, and every shell's output frames, in order."""

    def __init__(self, socket: ClientConnection, welcome: dict[str, Any]) -> None:
        self.socket = socket
        self.welcome = welcome
        self.messages: list[dict[str, Any]] = []
        self.output: dict[int, bytearray] = {}
        self.sequences: dict[int, list[int]] = {}
        self.refs = 0
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, appliance: RunningAppliance, cookie: str, resume_token: str | None = None) -> ShellConsole:
        context = ssl.create_default_context(cafile=str(appliance.cert_path))
        context.check_hostname = False  # by IP; the certificate names the site's host name
        socket = await connect(
            f"wss://127.0.0.1:{appliance.https_port}/ws/console",
            ssl=context,
            additional_headers={"Cookie": cookie},
            open_timeout=10,
            max_size=None,
        )
        await socket.send(json.dumps({"type": "hello", "resume_token": resume_token}))
        while (welcome := json.loads(await socket.recv()))["type"] != "welcome":
            assert welcome["type"] not in ("gone", "refused"), welcome
        return cls(socket, welcome)

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                if isinstance(raw, bytes):
                    frame = binary.unpack(raw)
                    if frame.header.kind is binary.FrameKind.SHELL:
                        self.output.setdefault(frame.header.stream, bytearray()).extend(frame.payload)
                        self.sequences.setdefault(frame.header.stream, []).append(frame.header.sequence)
                else:
                    self.messages.append(json.loads(raw))
        except ConnectionClosed:
            pass

    @property
    def closed(self) -> bool:
        return self.reader.done()

    async def request(self, message: dict[str, Any]) -> Any:
        self.refs += 1
        ref = f"f{self.refs}"
        await self.socket.send(json.dumps({**message, "ref": ref}))
        answer = await until(lambda: next((m for m in self.messages if m.get("ref") == ref), None), 15)
        assert answer["type"] == "ack" and answer["ok"], answer
        return answer.get("result")

    def last(self, kind: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        return next((m for m in reversed(self.messages) if m["type"] == kind and check(m)), None)

    async def close(self) -> None:
        await self.socket.close()
        self.reader.cancel()


async def until(check: Callable[[], T | None], timeout: float) -> T:
    """What `check` returns once it is something, polled; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing after {timeout}s")
        await asyncio.sleep(0.02)
    return found


def numbers(text: str) -> list[int]:
    return [int(n) for n in LINE.findall(text)]


def start_client(appliance: RunningAppliance, chat_path: str, log: Path) -> subprocess.Popen[bytes]:
    assert CLIENT.exists(), "scripts/install puts lifeline-client into .venv/bin"
    with log.open("wb") as output:  # the child has its own copy of the descriptor
        return subprocess.Popen(
            [
                str(CLIENT),
                "attach",
                appliance.https + chat_path,
                "--ca",
                str(appliance.cert_path),
                "--allow",
                "all",
                "--no-browser",
            ],
            stdin=subprocess.PIPE,  # the terminal chat: kept open, nothing typed
            stdout=output,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin", "HOME": str(log.parent), "SHELL": "/bin/sh", "PS1": "$ ", "LANG": "C.UTF-8"},
        )


def test_a_killed_appliance_comes_back_and_the_shell_recording_has_every_byte_once(
    appliance: RunningAppliance, personas: Personas, tmp_path: Path
) -> None:
    cookie = sign_in(appliance, "rep_a", personas.rep_a.password)
    log = tmp_path / "client.log"
    client: subprocess.Popen[bytes] | None = None

    async def scenario() -> None:
        nonlocal client
        console = await ShellConsole.open(appliance, cookie)
        with appliance.client(follow_redirects=False, headers=BROWSER) as web:
            started = web.post(
                "/api/start_session", data={"id": str(personas.rep_a.id), "name": "Alice Rep", "customer_name": "Kim"}
            )
        assert started.status_code == 303, started.text
        client = start_client(appliance, started.headers["location"], log)

        waiting = await until(lambda: console.last("session", lambda m: m["session"]["status"] == "waiting"), 15)
        lsid = waiting["session"]["lsid"]
        await console.request({"type": "take", "lsid": lsid})
        await until(
            lambda: console.last(
                "computer", lambda m: m["lsid"] == lsid and m["connected"] and "shell" in m["allowed"]
            ),
            30,
        )
        shell = (await console.request({"type": "shell_open", "lsid": lsid, "cols": 80, "rows": 24}))["shell"]
        await console.socket.send(json.dumps({"type": "shell_input", "lsid": lsid, "shell": shell, "data": COUNTER}))
        await until(lambda: len(numbers(console.output.get(shell, b"").decode())) >= 40, 15)

        appliance.process.kill()  # type: ignore[union-attr]  # kill -9: no shutdown of any kind
        appliance.process.wait()  # type: ignore[union-attr]
        await until(lambda: console.closed, 10)
        shown = bytes(console.output[shell])
        last_shown = numbers(shown.decode())[-1]

        await asyncio.to_thread(appliance.start)  # the same data directory and ports
        back = time.monotonic()
        console = await ShellConsole.open(appliance, cookie, console.welcome["resume_token"])
        assert console.welcome["resumed"], "the console came back as the same connection"
        await until(lambda: console.last("computer", lambda m: m["lsid"] == lsid and m["connected"]), BACK_WITHIN + 1)
        await until(lambda: [n for n in numbers(console.output.get(shell, b"").decode()) if n > last_shown], 10)
        took = time.monotonic() - back
        print(f"console, client and shell back {took:.2f}s after the appliance answered again")
        assert took < BACK_WITHIN, "the client and the shell took too long to come back"

        await console.request({"type": "shell_close", "lsid": lsid, "shell": shell})
        await until(lambda: console.last("shell_exit", lambda m: m["shell"] == shell), 10)
        await console.close()

        with appliance.client() as http:
            reporting = ReportingApi(http)
            recording = await until(lambda: _finished_recording(reporting, personas, lsid), 10)
        cast = [json.loads(line) for line in recording.splitlines()]
        assert cast[0]["version"] == 2
        output = "".join(data for _, kind, data in cast[1:] if kind == "o")
        assert output.startswith(shown.decode()), "the recording differs from what the console was shown"
        counted = numbers(output)
        assert counted == list(range(1, len(counted) + 1)), "a line was lost or recorded twice"
        assert counted[-1] > last_shown, "the shell did not carry on after the restart"

    try:
        asyncio.run(scenario())
    finally:
        if client is not None and client.poll() is None:
            client.terminate()
            try:
                client.wait(10)
            except subprocess.TimeoutExpired:
                client.kill()
                client.wait()
        if client is not None and client.stdin is not None:
            client.stdin.close()
        print(log.read_text(errors="replace")[-4000:] if log.exists() else "")


def _finished_recording(reporting: ReportingApi, personas: Personas, lsid: str) -> str | None:
    """The shell's asciicast from CommandShellRecording, once the appliance has finished it."""
    response = reporting.raw("CommandShellRecording", personas.admin.params, lsid=lsid, instance=0)
    if response.headers["content-type"].startswith("application/x-asciicast"):
        return response.text
    return None
