"""The Jump socket fuzzed against the real server: any hello, and any message after the
welcome, is either taken or refused with a clear close (4400, 4403: never a 1011 or a
traceback in the log)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from tests.jump.jumpclient import FakeJumpClient
from tests.realtime.test_bad_frames import field_values
from tests.support.appliance import RunningAppliance

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
HELLO_FIELDS = ["id", "signature", "computer", "mode", "version", "type"]
STATISTICS_FIELDS = ["console_user", "cpu", "disk", "uptime", "thumbnail", "type", "request", "error"]


def messages(type_: str, fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda extra, keep: {**({"type": type_} if keep else {}), **extra},
        st.dictionaries(st.sampled_from(fields), field_values, max_size=5),
        st.booleans(),
    )


@pytest.fixture(scope="module")
def client(appliance: RunningAppliance) -> FakeJumpClient:
    appliance.cli("jump-group", "add", "Fuzz")
    made = appliance.cli_json("jump-installer", "add", "--group", "Fuzz")
    installed = FakeJumpClient(appliance, "fuzz")
    installed.install(made["key"])
    return installed


@FUZZ
@given(hello=messages("hello", HELLO_FIELDS))
def test_any_hello_is_refused_clearly(appliance: RunningAppliance, hello: dict[str, Any]) -> None:
    socket = FakeJumpClient(appliance).open()
    socket.next()
    socket.send_raw(json.dumps(hello))
    code, _ = socket.close_code()
    assert code in (4400, 4403)


@FUZZ
@given(message=st.one_of(messages("statistics", STATISTICS_FIELDS), messages("started", STATISTICS_FIELDS)))
def test_any_message_after_the_welcome_is_taken_or_closed(
    appliance: RunningAppliance, client: FakeJumpClient, message: dict[str, Any]
) -> None:
    socket, welcome = client.connect()
    assert welcome["type"] == "welcome"
    try:
        socket.send_raw(json.dumps(message))
        socket.send_raw('{"type": "statistics", "cpu": 101}')  # refused for sure: the socket then closes
        code, _ = socket.close_code()
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None
    assert code == 4400


def test_no_traceback_in_the_log(appliance: RunningAppliance) -> None:
    assert "Traceback" not in appliance.log_tail(200_000)
