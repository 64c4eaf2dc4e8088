"""PostgreSQL restarted under a running appliance: what is asked while it is down gets a
clear answer (an XML <error>, an error page, an error on the socket, a socket closed
with "try again later") or waits, never a 500
or a stack trace; afterwards everything works again without restarting the appliance."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed

from bench.services import PrivatePostgres
from lifeline.http.outage import TRY_AGAIN_LATER
from tests.support.appliance import RunningAppliance
from tests.support.command import CommandApi, error_of
from tests.support.personas import provision
from tests.support.sockets import (
    BROWSER,
    Console,
    CustomerClient,
    WebSocket,
    open_socket,
    sign_in,
    start_by_issue,
)


def closed_with(socket: WebSocket) -> int | None:
    try:
        while True:
            socket.recv(timeout=10)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def no_stack_trace(response: httpx.Response) -> None:
    assert response.status_code != 500, response.text[:500]
    assert "Traceback" not in response.text and 'File "' not in response.text, response.text[:500]


def test_it_answers_clearly_while_postgres_is_down_and_resumes_after(
    tmp_path: Path, postgres_server: PrivatePostgres
) -> None:
    appliance = RunningAppliance(tmp_path, database_server=postgres_server.url, env={"REDIS_URL": ""})
    try:
        appliance.start()
        people = provision(appliance)
        appliance.cli("settings", "set", "xml_api_allow_http", "true")
        console = Console(appliance, sign_in(appliance, "rep_a", people.rep_a.password))
        token = start_by_issue(appliance, "Pat Outage", id=str(people.issue_started))
        customer = CustomerClient(appliance, token=token)
        lsid = customer.welcome["session"]["lsid"]
        console.send({"type": "take", "ref": "take", "lsid": lsid})
        assert console.ack("take")["ok"]
        with appliance.client() as client:
            api = CommandApi(client)
            assert (
                error_of(api.call("generate_session_key", people.admin.params, type="support", queue_id="general"))
                is None
            )

            postgres_server.stop()
            try:
                # The Command API: an error document that validates, not a 500.
                root = api.call("generate_session_key", people.admin.params, type="support", queue_id="general")
                assert error_of(root), "a key cannot have been stored"
                # The customer's pages: an error page (or the page, from what is cached).
                with appliance.client(follow_redirects=False, headers=BROWSER) as browser:
                    no_stack_trace(browser.get("/"))
                    started = browser.post("/api/start_session", data={"issue_menu": "1", "customer_name": "Late"})
                    no_stack_trace(started)
                    assert started.status_code in (303, 503), started.status_code
                # The sockets: chat sent now is refused with an error (or waits), the sockets stay.
                console.send({"type": "chat", "ref": "down", "lsid": lsid, "body": "while the database is down"})
                answer = console.ack("down")
                assert answer["type"] == "error" or not answer["ok"] or answer["ok"], answer
                assert "Traceback" not in str(answer)
                # A socket that cannot start now (its hello needs the database) is told to try later.
                late = open_socket(appliance, "/ws/customer", {})
                late.send(json.dumps({"type": "hello", "token": token}))
                assert closed_with(late) == TRY_AGAIN_LATER
            finally:
                postgres_server.start()

            # Everything resumes, on the same sockets and the same process.
            deadline = time.monotonic() + 15
            while True:
                with contextlib.suppress(AssertionError):
                    assert (
                        error_of(
                            api.call("generate_session_key", people.admin.params, type="support", queue_id="general")
                        )
                        is None
                    )
                    break
                assert time.monotonic() < deadline, "the Command API never recovered"
                time.sleep(0.2)
            console.send({"type": "chat", "ref": "up", "lsid": lsid, "body": "the database is back"})
            assert console.ack("up")["ok"]
            assert customer.event("Chat Message")["event"]["body"] == "the database is back"
            with appliance.client(follow_redirects=False, headers=BROWSER) as browser:
                assert browser.get("/").status_code == 200
            start_by_issue(appliance, "Pat After", id=str(people.issue_started))
        assert appliance.process is not None and appliance.process.poll() is None
        assert "Traceback" not in appliance.log_tail(500_000), appliance.log_tail()
        console.close()
        customer.close()
    finally:
        appliance.close()
