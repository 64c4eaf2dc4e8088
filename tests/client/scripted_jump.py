"""For the Jump Client's tests of its own behaviour (faults the real appliance cannot be made
to show on cue): the scripted appliance of scripted.py with `/ws/jump` as the contract says
(challenge, the hello's signature checked with the installation's public key, welcome, then
whatever the test sends), and a file served for upgrades. Installations are written with the
client's own state module, as `jump install` writes them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import queue
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from lifeline_client.jump import state
from lifeline_protocol import encode
from lifeline_protocol.jump import Challenge, FromJumpClient, Hello, ToJumpClient, Welcome, signed_text
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.client.scripted import CLIENT, Certificate, ScriptedAppliance, make_certificate

_from_client = msgspec.json.Decoder(FromJumpClient)
_to_client = msgspec.json.Decoder(ToJumpClient)


def install(folder: Path, certificate: Certificate, port: int, jump_id: int = 7) -> Ed25519PublicKey:
    """An installation in `folder` for the scripted appliance; its public key."""
    folder.mkdir(parents=True, exist_ok=True)
    key = state.new_key()
    installation = state.Installation(
        origin=f"https://127.0.0.1:{port}", id=jump_id, name="kiosk", mode="jump_client", version="0.1.0"
    )
    state.save(folder, installation, key)
    shutil.copyfile(certificate.cert, folder / state.CERT)
    return key.public_key()


class ScriptedJump(ScriptedAppliance):
    def __init__(self, certificate: Certificate) -> None:
        self.public_keys: dict[int, Ed25519PublicKey] = {}
        self.jump_welcome = Welcome(name="kiosk", statistics=[], interval=60.0, version=1)
        self.jump_refuse: int | None = None  # close the next /ws/jump after the hello with this code
        self.jump_hellos: queue.Queue[tuple[float, Hello]] = queue.Queue()
        self.jump_received: queue.Queue[tuple[int, Any]] = queue.Queue()
        self.jump_connections = 0
        self.files: dict[str, bytes] = {}  # served by GET path
        self._jump_socket: ServerConnection | None = None
        super().__init__(certificate)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _http(self, ws: ServerConnection, request: Request) -> Response | None:
        body = self.files.get(request.path)
        if body is not None:
            headers = Headers([("Content-Length", str(len(body))), ("Content-Type", "application/octet-stream")])
            return Response(HTTPStatus.OK, "OK", headers, body)
        return super()._http(ws, request)

    async def _handle(self, ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/ws/jump":
            with contextlib.suppress(ConnectionClosed):
                await self._jump(ws)
            return
        await super()._handle(ws)

    async def _jump(self, ws: ServerConnection) -> None:
        nonce = secrets.token_urlsafe(24)
        await ws.send(encode(Challenge(nonce=nonce, version=1)).decode())
        hello = _from_client.decode(await ws.recv())
        assert isinstance(hello, Hello)
        signature = base64.urlsafe_b64decode(hello.signature + "=" * (-len(hello.signature) % 4))
        self.public_keys[hello.id].verify(signature, signed_text(nonce, hello.id, self.origin))  # raises if wrong
        self.jump_hellos.put((asyncio.get_running_loop().time(), hello))
        if self.jump_refuse is not None:
            await ws.close(self.jump_refuse)
            return
        self.jump_connections += 1
        number = self.jump_connections
        self._jump_socket = ws
        await ws.send(encode(self.jump_welcome).decode())
        async for raw in ws:
            self.jump_received.put((number, _from_client.decode(raw)))

    def jump_send(self, message: Any) -> None:
        text = encode(message).decode()
        _to_client.decode(text)  # the test speaks the protocol
        assert self._jump_socket is not None
        asyncio.run_coroutine_threadsafe(self._jump_socket.send(text), self._loop).result(10)

    def jump_drop(self, code: int = 1012) -> None:
        assert self._jump_socket is not None
        asyncio.run_coroutine_threadsafe(self._jump_socket.close(code), self._loop).result(10)

    def jump_next(self, kind: type[Any], timeout: float = 20) -> Any:
        while True:
            number, found = self.jump_received.get(timeout=timeout)
            if isinstance(found, kind) and number == self.jump_connections:
                return found

    def jump_hello(self, timeout: float = 20) -> Hello:
        return self.jump_hellos.get(timeout=timeout)[1]

    def serve(self, path: str, data: bytes) -> str:
        self.files[path] = data
        return hashlib.sha256(data).hexdigest()


# --- what the tests of `jump run` against it share ----------------------------------------------


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "tls")


@pytest.fixture
def appliance(certificate: Certificate) -> Iterator[ScriptedJump]:
    scripted = ScriptedJump(certificate)
    yield scripted
    scripted.close()


def jump_run(folder: Path, *program: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = env or {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.Popen(
        [*(program or [str(CLIENT)]), "jump", "run", "--dir", str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(process: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return process.returncode, out, err


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.terminate()
    return finish(process, 15)[2]
