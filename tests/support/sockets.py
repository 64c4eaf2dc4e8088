"""Speaking the consoles' and customer clients' WebSocket protocol from tests."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import ssl
import threading
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.appliance import RunningAppliance


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


def _connect(
    appliance: RunningAppliance, path: str, context: ssl.SSLContext, headers: dict[str, str]
) -> ClientConnection:
    """`connect`, in a thread of its own: when the appliance never answers the handshake,
    websockets can block past its open_timeout (its reading thread waits in an SSL read).
    Then the appliance is asked to log every thread's stack (SIGUSR1) and the test fails
    with the end of that log, instead of hanging until the test timeout."""
    outcome: list[ClientConnection | BaseException] = []

    def attempt() -> None:
        try:
            outcome.append(
                connect(
                    f"wss://127.0.0.1:{appliance.https_port}{path}",
                    ssl=context,
                    additional_headers=headers,
                    open_timeout=10,
                )
            )
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(20)
    if not outcome:
        if appliance.process is not None:
            appliance.process.send_signal(signal.SIGUSR1)
            time.sleep(1)
        raise TimeoutError(f"no WebSocket handshake in 20 s; the appliance's log ends:\n{appliance.log_tail()}")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


class Socket:
    """One WebSocket to the appliance: says hello, keeps the welcome, reads what comes."""

    path = ""

    def __init__(self, appliance: RunningAppliance, cookie: str = "", **hello: Any) -> None:
        context = ssl.create_default_context(cafile=str(appliance.cert_path))
        context.check_hostname = False
        self._stack = contextlib.ExitStack()
        self.socket: ClientConnection = self._stack.enter_context(
            _connect(appliance, self.path, context, {"Cookie": cookie} if cookie else {})
        )
        self.send({"type": "hello", **hello})
        self.welcome = self.until("welcome", "gone", "refused")

    def send(self, message: dict[str, Any]) -> None:
        self.socket.send(json.dumps(message))

    def until(self, *types: str, timeout: float = 10) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(self.socket.recv(timeout=timeout))
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
        self._stack.close()


class Console(Socket):
    path = "/ws/console"


class CustomerClient(Socket):
    path = "/ws/customer"


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
