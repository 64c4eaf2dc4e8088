"""Speaking the consoles' and customer clients' WebSocket protocol from tests, through the
protocol package: hellos are its Structs, and everything the appliance sends is read with
its decoders (so a message that strays from the declarations fails the test that gets it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import msgspec
from lifeline_protocol import attendee as attendee_wire
from lifeline_protocol import console as console_wire
from lifeline_protocol import customer as customer_wire
from lifeline_protocol import decode_to_attendee, decode_to_console, decode_to_customer, encode
from lifeline_protocol.common import Message
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.appliance import RunningAppliance

T = TypeVar("T")


def sign_in(appliance: RunningAppliance, username: str, password: str) -> str:
    """The console's session cookie, got the way a browser gets it."""
    with appliance.client() as client:
        page = client.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        response = client.post(
            "/console/login", data={"csrf": csrf.group(1), "username": username, "password": password}
        )
        assert response.status_code == 303, response.text
        return f"lifeline_session={client.cookies['lifeline_session']}"


class _SocketLoop:
    """One event loop, in a thread of its own, that does all the tests' WebSocket I/O.

    websockets' threaded client reads a TLS socket in one thread while the test writes it
    from another, and OpenSSL keeps the socket's raw descriptor number: a read or write that
    straddles a close lands on whatever the process opened next with that number. That is
    the likely way an upgrade request once reached the PostgreSQL server in CI instead of
    the appliance, which then never answered. asyncio's TLS goes through memory buffers,
    on one thread."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def run(cls, work: Coroutine[Any, Any, T], timeout: float) -> T:
        with cls._lock:
            if cls._loop is None:
                cls._loop = asyncio.new_event_loop()
                threading.Thread(target=cls._loop.run_forever, name="test-websockets", daemon=True).start()
        future = asyncio.run_coroutine_threadsafe(work, cls._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise


class WebSocket:
    """A WebSocket to the appliance, used from test code as if it were blocking."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    def send(self, text: str) -> None:
        _SocketLoop.run(self._connection.send(text), 10)

    def send_binary(self, data: bytes) -> None:
        """A binary frame (the protocol has none; the appliance must answer it with an error)."""
        _SocketLoop.run(self._connection.send(data), 10)

    def go_silent(self) -> None:
        """Stop reading, as a laptop that slept or lost its network would: pings go unanswered."""

        async def pause() -> None:
            self._connection.transport.pause_reading()

        _SocketLoop.run(pause(), 10)

    def recv(self, *, timeout: float = 10) -> str:
        """The next message; TimeoutError when none comes in `timeout` seconds."""
        message = _SocketLoop.run(asyncio.wait_for(self._connection.recv(decode=True), timeout), timeout + 5)
        assert isinstance(message, str)
        return message

    def close(self) -> None:
        _SocketLoop.run(self._close(), 20)

    async def _close(self) -> None:
        # Messages the test never read stop websockets reading (its queue is full), so the
        # appliance's answering close frame would wait behind them until the 10 s timeout:
        # they are read away while the socket closes.
        closing = asyncio.ensure_future(self._connection.close())
        with contextlib.suppress(ConnectionClosed):
            while not closing.done():
                await self._connection.recv()
        await closing


def open_socket(
    appliance: RunningAppliance, path: str, headers: dict[str, str], *, origin: str | None = None
) -> WebSocket:
    """The opening handshake. When the appliance does not answer it in 20 s, the appliance
    is asked to log every thread's stack (SIGUSR1) and the test fails with the end of that
    log rather than at the test timeout."""
    context = ssl.create_default_context(cafile=str(appliance.cert_path))
    context.check_hostname = False  # we connect by IP; the certificate names the site hostname
    url = f"wss://127.0.0.1:{appliance.https_port}{path}"
    try:
        return WebSocket(_SocketLoop.run(_open(url, context, headers, origin), 20))
    except TimeoutError:
        if appliance.process is not None:
            appliance.process.send_signal(signal.SIGUSR1)
            time.sleep(1)
        raise TimeoutError(
            f"no WebSocket handshake in 20 s; the appliance's log ends:\n{appliance.log_tail()}"
        ) from None


async def _open(url: str, context: ssl.SSLContext, headers: dict[str, str], origin: str | None) -> ClientConnection:
    return await connect(
        url,
        ssl=context,
        additional_headers=headers,
        origin=origin,  # type: ignore[arg-type]
        open_timeout=10,
    )


class Socket:
    """One WebSocket to the appliance: says hello, keeps the welcome, reads what comes.
    Messages read come as plain dicts (`msgspec.to_builtins`), as the tests read them."""

    path = ""
    decode: Callable[[str], Message]

    def __init__(self, appliance: RunningAppliance, cookie: str = "", **hello: Any) -> None:
        self.socket = open_socket(appliance, self.path, {"Cookie": cookie} if cookie else {})
        self.send(self.hello(**hello))
        self.welcome = self.until("welcome", "gone", "refused")

    def hello(self, **fields: Any) -> Message:
        raise NotImplementedError

    def send(self, message: Message | dict[str, Any]) -> None:
        """A request: the protocol's Struct, or a dict (tests also send what no Struct allows)."""
        self.socket.send(encode(message).decode() if isinstance(message, Message) else json.dumps(message))

    def until(self, *types: str, timeout: float = 10) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = msgspec.to_builtins(type(self).decode(self.socket.recv(timeout=timeout)))
            if message["type"] in types:
                return message

    def ack(self, ref: str) -> dict[str, Any]:
        while True:
            message = self.until("ack", "error")
            if message.get("ref") == ref:
                return message

    def event(self, kind: str, *, timeout: float = 10) -> dict[str, Any]:
        """The next session event of this type."""
        while True:
            message = self.until("event", timeout=timeout)
            if message["event"]["type"] == kind:
                return message

    def close_code(self, *, timeout: float = 10) -> int | None:
        """Read until the appliance closes the socket; the code it closed with."""
        try:
            while True:
                self.socket.recv(timeout=timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        finally:
            self.close()

    def close(self) -> None:
        self.socket.close()


class Console(Socket):
    path = "/ws/console"
    decode = decode_to_console

    def hello(self, **fields: Any) -> Message:
        return console_wire.Hello(**fields)


class CustomerClient(Socket):
    path = "/ws/customer"
    decode = decode_to_customer

    def hello(self, **fields: Any) -> Message:
        return customer_wire.Hello(**fields)


class Attendee(Socket):
    """A presentation attendee's page: hello with the presentation's key and a name."""

    path = "/ws/attendee"
    decode = decode_to_attendee

    def hello(self, **fields: Any) -> Message:
        return attendee_wire.Hello(**fields)


# What a browser sends when it navigates; /api/start_session answers others with a download.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def start_by_issue(appliance: RunningAppliance, name: str, **fields: str) -> str:
    """A customer submits the issue form in their browser; returns their client token."""
    with appliance.client(follow_redirects=False, headers=BROWSER) as client:
        response = client.post("/api/start_session", data={"issue_menu": "1", "customer_name": name, **fields})
        assert response.status_code == 303, response.text
        match = re.fullmatch(r"/chat/([\w-]+)", response.headers["location"])
        assert match is not None
        return match.group(1)
