"""For the client's tests: self-signed certificates made on the spot, and a scripted
appliance, a TLS WebSocket server on loopback that speaks the client's protocol through
lifeline_protocol (every message the client sends is read with the appliance's own
decoders, so one that strays from the declarations fails the test)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import queue
import ssl
import subprocess
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lifeline_protocol import client as wire
from lifeline_protocol import customer as customer_wire
from lifeline_protocol import decode_client_hello, decode_from_client, decode_to_client, encode
from lifeline_protocol.binary import Frame, unpack
from lifeline_protocol.common import Message
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

CLIENT = Path(sys.executable).parent / "lifeline-client"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def make_certificate(folder: Path, name: str = "appliance", *, loopback: bool = True) -> Certificate:
    """A self-signed leaf certificate (CA:FALSE, as the appliance makes its own) for
    support.example.com, and (`loopback`) localhost and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("support.example.com")]
                + ([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))] if loopback else [])
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = Certificate(folder / f"{name}.crt", folder / f"{name}.key")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    return context


class ScriptedAppliance:
    """/ws/client and /ws/customer on loopback, on an event loop of its own thread. The
    test reads what the client sent with `next()` and sends with `send()`."""

    def __init__(self, certificate: Certificate, welcome: wire.Welcome | None = None) -> None:
        self.welcome = welcome or wire.Welcome(lsid="a" * 32, company="Example", server_time=0.0, version=1)
        self.hellos: queue.Queue[wire.Hello] = queue.Queue()
        self.starts: queue.Queue[tuple[str, str]] = queue.Queue()  # (path and query, Accept)
        self.refuse: int | None = None  # close the next client socket with this code
        # (connection number, message): what an older connection carried is gone with it.
        self.received: queue.Queue[tuple[int, Message | Frame]] = queue.Queue()
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._socket: ServerConnection | None = None
        self._context = server_context(certificate)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="scripted-appliance")
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, ssl=self._context, max_size=2**21, process_request=self._http
        )
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _http(self, ws: ServerConnection, request: Request) -> Response | None:
        """/api/start_session answers a browser's start with the redirect to the chat; the
        public site's page lists one representative."""
        if request.path == "/":
            page = '<li><a href="/api/start_session?id=5&amp;name=Alice%20Rep">Alice Rep</a></li>'
            return ws.respond(HTTPStatus.OK, page)
        if not request.path.startswith("/api/start_session"):
            return None
        self.starts.put((request.path, request.headers.get("Accept", "")))
        response = ws.respond(HTTPStatus.SEE_OTHER, "")
        response.headers["Location"] = "/chat/token-1"
        return response

    async def _handle(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        try:
            if path == "/ws/customer":
                await self._customer(ws)
            elif path == "/ws/client":
                await self._client(ws)
        except ConnectionClosed:
            pass

    async def _customer(self, ws: ServerConnection) -> None:
        await ws.recv()
        view = customer_wire.SessionView(lsid="a" * 32, status="active", queue_name="", reps=["Alice"])
        welcome = customer_wire.Welcome(
            gsnumber=2,
            company="Example",
            session=view,
            position=None,
            history=[],
            survey=[],
            survey_done=False,
            server_time=0.0,
            version=1,
        )
        await ws.send(encode(welcome).decode())
        async for _ in ws:
            pass

    async def _client(self, ws: ServerConnection) -> None:
        self.hellos.put(decode_client_hello(await ws.recv()))
        self.connections += 1
        number = self.connections
        self._socket = ws
        if self.refuse is not None:
            await ws.close(self.refuse)
            return
        await ws.send(encode(self.welcome).decode())
        async for raw in ws:
            self.received.put((number, unpack(raw) if isinstance(raw, bytes) else decode_from_client(raw)))

    # --- from the test -----------------------------------------------------------------

    def send(self, message: Message | str) -> None:
        text = message if isinstance(message, str) else encode(message).decode()
        if isinstance(message, Message):
            decode_to_client(text)  # the test itself must speak the protocol
        assert self._socket is not None, "the client has not connected"
        asyncio.run_coroutine_threadsafe(self._socket.send(text), self._loop).result(10)

    def send_binary(self, data: bytes) -> None:
        assert self._socket is not None
        asyncio.run_coroutine_threadsafe(self._socket.send(data), self._loop).result(10)

    def drop(self, code: int = 1012) -> None:
        """Close the client's socket as a restarting appliance would."""
        assert self._socket is not None
        asyncio.run_coroutine_threadsafe(self._socket.close(code), self._loop).result(10)

    def next(self, kind: type[Any], timeout: float = 10) -> Any:
        """The next message of that type on the latest connection (others are skipped)."""
        while True:
            number, found = self.received.get(timeout=timeout)
            if isinstance(found, kind) and number == self.connections:
                return found

    def hello(self, timeout: float = 20) -> wire.Hello:
        return self.hellos.get(timeout=timeout)

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def run_client(port: int, ca: Path, *extra: str, trust: str = "--ca") -> subprocess.Popen[str]:
    """The real program, as its own process, joined to the scripted appliance's session."""
    return launch("attach", f"https://127.0.0.1:{port}/chat/token-1", trust, str(ca), "--no-browser", *extra)


def launch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CLIENT), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_client(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        process.terminate()
    try:
        out, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return out, err
