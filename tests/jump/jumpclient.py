"""A Jump Client at the protocol level, for tests: its own Ed25519 key, the install request
and the `/ws/jump` socket, signed as the real client signs."""

from __future__ import annotations

import base64
import time
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lifeline_protocol import encode
from lifeline_protocol import jump as wire
from lifeline_protocol.computer import Computer
from lifeline_protocol.decode import decode_to_jump_client
from websockets.exceptions import ConnectionClosed

from tests.support.appliance import RunningAppliance
from tests.support.sockets import WebSocket, open_socket


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class FakeJumpClient:
    def __init__(self, appliance: RunningAppliance, hostname: str = "kiosk-1") -> None:
        self.appliance = appliance
        self.key = Ed25519PrivateKey.generate()
        self.public_key = b64(self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        self.computer = Computer(hostname=hostname, os="Debian GNU/Linux 13", platform="linux", client_version="999.0")
        self.id = 0
        self.origin = appliance.https  # what the test connects to: https://127.0.0.1:PORT

    def sign(self, text: bytes) -> str:
        return b64(self.key.sign(text))

    def install_body(self, installer_key: str, **changes: Any) -> dict[str, Any]:
        body = {
            "installer_key": installer_key,
            "public_key": self.public_key,
            "signature": self.sign(wire.install_text(installer_key, self.public_key, self.origin)),
            "computer": msgspec.to_builtins(self.computer),
        }
        return {**body, **changes}

    def install(self, installer_key: str) -> dict[str, Any]:
        with self.appliance.client() as http:
            response = http.post("/jump/install", json=self.install_body(installer_key))
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        self.id = answer["id"]
        return answer

    def uninstall(self, at: float | None = None) -> Any:
        stamp = int(time.time() if at is None else at)
        with self.appliance.client() as http:
            return http.post(
                "/jump/uninstall",
                json={
                    "id": self.id,
                    "at": stamp,
                    "signature": self.sign(wire.uninstall_text(self.id, stamp, self.origin)),
                },
            )

    def open(self, to: RunningAppliance | None = None) -> JumpSocket:
        return JumpSocket(open_socket(to or self.appliance, "/ws/jump", {}))

    def connect(self, to: RunningAppliance | None = None) -> tuple[JumpSocket, dict[str, Any]]:
        """Challenge, hello; the appliance's answer (welcome, uninstall) or {} when it closed.
        `to`: another process of the same appliance (the origin signed is the one connected to)."""
        target = to or self.appliance
        socket = self.open(target)
        challenge = socket.next()
        assert challenge["type"] == "challenge"
        signed = self.sign(wire.signed_text(challenge["nonce"], self.id, target.https))
        socket.send(wire.Hello(id=self.id, signature=signed, computer=self.computer))
        try:
            return socket, socket.next()
        except ConnectionClosed:
            return socket, {}


class JumpSocket:
    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket

    def send(self, message: wire.Hello | wire.Statistics | wire.Started) -> None:
        self.socket.send(encode(message).decode())

    def send_raw(self, text: str) -> None:
        self.socket.send(text)

    def next(self, timeout: float = 10) -> dict[str, Any]:
        message: dict[str, Any] = msgspec.to_builtins(decode_to_jump_client(self.socket.recv(timeout=timeout)))
        return message

    def close_code(self, timeout: float = 10) -> tuple[int | None, list[dict[str, Any]]]:
        """Read until the appliance closes: its code, and what it sent before."""
        seen: list[dict[str, Any]] = []
        try:
            while True:
                seen.append(self.next(timeout))
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), seen

    def close(self) -> None:
        self.socket.close()
