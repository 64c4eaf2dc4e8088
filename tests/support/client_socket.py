"""The Lifeline client's socket spoken from tests at the protocol's level (the real client
program is its own distribution; these tests drive the appliance's side exactly), and a
console that also reads the binary frames a command shell sends."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import msgspec
from lifeline_protocol import binary, decode_to_client, decode_to_console, encode
from lifeline_protocol import client as client_wire
from lifeline_protocol.common import Message
from lifeline_protocol.computer import Computer
from websockets.exceptions import ConnectionClosed

from tests.support.appliance import RunningAppliance
from tests.support.sockets import Console, WebSocket, _SocketLoop, open_socket

COMPUTER = Computer(
    hostname="tess-laptop",
    os="Debian GNU/Linux 13 (trixie)",
    platform="linux",
    username="tess",
    private_ip="192.168.1.23",
    timezone_offset=3600,
    client_version="1.0",
)


def receive(socket: WebSocket, timeout: float) -> str | bytes:
    """The next message, text or binary."""
    connection = socket._connection
    message = _SocketLoop.run(asyncio.wait_for(connection.recv(), timeout), timeout + 5)
    assert isinstance(message, str | bytes)
    return message


class ProgramSocket:
    """What the Lifeline client program says on /ws/client, scripted."""

    def __init__(
        self,
        appliance: RunningAppliance,
        token: str,
        *,
        allowed: list[str] | None = None,
        flag: bool = False,
        computer: Computer = COMPUTER,
    ) -> None:
        self.socket = open_socket(appliance, "/ws/client", {})
        hello = client_wire.Hello(token=token, computer=computer, allowed=allowed or [], flag=flag)
        self.send(hello)
        self.welcome = self.until("welcome", "gone")

    def send(self, message: Message | dict[str, Any]) -> None:
        self.socket.send(encode(message).decode() if isinstance(message, Message) else json.dumps(message))

    def output(self, shell: int, sequence: int, payload: bytes) -> None:
        self.socket.send_binary(binary.pack(binary.Header(binary.FrameKind.SHELL, shell, sequence), payload))

    def until(self, *types: str, timeout: float = 10) -> dict[str, Any]:
        while True:
            raw = receive(self.socket, timeout)
            assert isinstance(raw, str), "the appliance sends the client no binary frames"
            message: dict[str, Any] = msgspec.to_builtins(decode_to_client(raw))
            if message["type"] in types:
                return message

    def close_code(self, *, timeout: float = 10) -> int | None:
        try:
            while True:
                receive(self.socket, timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        finally:
            self.close()

    def close(self) -> None:
        self.socket.close()


class ShellConsole(Console):
    """A console whose binary messages (shell output) are kept in `frames`, in order; text
    read while waiting for output waits in `backlog` for the next `until`."""

    frames: list[bytes]
    backlog: list[str]
    computers: dict[str, dict[str, Any]]  # lsid -> the latest `computer` read, even while waiting for another type

    def _next(self, timeout: float) -> str | bytes:
        if not hasattr(self, "frames"):
            self.frames, self.backlog, self.computers = [], [], {}
        if self.backlog:
            return self.backlog.pop(0)
        return receive(self.socket, timeout)

    def until(self, *types: str, timeout: float = 10) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            raw = self._next(max(end - time.monotonic(), 0.01))
            if isinstance(raw, bytes):
                self.frames.append(raw)
                continue
            message: dict[str, Any] = msgspec.to_builtins(decode_to_console(raw))
            if message["type"] == "computer":
                self.computers[message["lsid"]] = message
            if message["type"] in types:
                return message

    def output_of(self, shell: int, *, until: bytes, timeout: float = 10) -> bytes:
        """The shell's output relayed so far, read until it holds `until`."""
        end = time.monotonic() + timeout
        while True:
            seen = b"".join(
                binary.unpack(f).payload for f in getattr(self, "frames", []) if binary.unpack_header(f).stream == shell
            )
            if until in seen:
                return seen
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"shell {shell} showed {seen!r}")
            raw = receive(self.socket, left)
            if isinstance(raw, bytes):
                self.frames.append(raw)
            else:
                self.backlog.append(raw)
