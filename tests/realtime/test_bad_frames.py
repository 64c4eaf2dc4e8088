"""Frames the protocol does not expect, sent to the real sockets: each gets the protocol's
error and the socket carries on, and however a socket ends its peer is let go (no rep left
listed by get_logged_in_reps, no customer left waiting in a queue)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from tests.support.appliance import RunningAppliance, eventually
from tests.support.command import CommandApi
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas
from tests.support.sockets import Console, CustomerClient, Socket, sign_in, start_by_issue

# Each socket sends at most this many messages a second: under the 30 it may send, with room
# for messages that arrive bunched. Paced from the last send, not a fixed sleep, so the time
# an answer takes counts toward the wait.
PACE = 25
_next_send: dict[int, float] = {}


def paced(socket: Socket, messages: int) -> None:
    """Wait until `socket` may send `messages` more without going over PACE a second."""
    now = time.monotonic()
    at = max(now, _next_send.get(id(socket), 0.0))
    if at > now:
        time.sleep(at - now)
    _next_send[id(socket)] = at + messages / PACE


# Each is answered with {"type": "error"} and the socket stays open.
ANSWERED: list[tuple[str, Callable[[Socket], None]]] = [
    ("binary", lambda s: s.socket.send_binary(b"\x00\xff\x10")),
    ("binary JSON", lambda s: s.socket.send_binary(b'{"type": "ping"}')),
    ("not JSON", lambda s: s.socket.send("{nope")),
    ("deeply nested", lambda s: s.socket.send("[" * 30000 + "]" * 30000)),
    ("not an object", lambda s: s.socket.send(json.dumps(["type", "ping"]))),
    ("type not text", lambda s: s.socket.send(json.dumps({"type": 5}))),
    ("too long", lambda s: s.socket.send(json.dumps({"type": "chat", "body": "x" * 70_000}))),
    ("unknown type", lambda s: s.send({"type": "dance", "ref": "d"})),
    ("hello again", lambda s: s.send({"type": "hello", "ref": "h"})),
]


@pytest.fixture(scope="module", autouse=True)
def short_grace(appliance: RunningAppliance) -> None:
    appliance.cli_settled("settings", "set", "console_reconnect_seconds", "1")
    appliance.cli_settled("settings", "set", "customer_reconnect_seconds", "1")


def logged_in(api: CommandApi, personas: Personas) -> set[str]:
    return {rep.get("id") or "" for rep in api.call("get_logged_in_reps", personas.admin.params)}


def answered_and_alive(socket: Socket, name: str) -> None:
    answer = socket.until("error", "ack")
    assert answer.get("ok") is not True and answer.get("error"), name
    socket.send({"type": "ping"})
    assert socket.until("pong")["type"] == "pong", name


@pytest.mark.parametrize(("name", "send"), ANSWERED, ids=[name for name, _ in ANSWERED])
def test_a_console_answers_a_bad_frame_and_lets_go_when_it_closes(
    appliance: RunningAppliance,
    personas: Personas,
    api: CommandApi,
    name: str,
    send: Callable[[Socket], None],
) -> None:
    console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    send(console)
    answered_and_alive(console, name)
    eventually(lambda: _listed(api, personas, True))
    console.close()  # dropped, not logged out: gone once the grace is over
    eventually(lambda: _listed(api, personas, False), timeout=10)


@pytest.mark.parametrize(("name", "send"), ANSWERED, ids=[name for name, _ in ANSWERED])
def test_a_customer_answers_a_bad_frame_and_leaves_the_queue_when_gone(
    appliance: RunningAppliance, personas: Personas, node: ConsoleNode, name: str, send: Callable[[Socket], None]
) -> None:
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Fuzz", id=str(personas.issue_started)))
    lsid = customer.welcome["session"]["lsid"]
    send(customer)
    answered_and_alive(customer, name)
    assert node.session(lsid).status == "waiting"
    customer.close()
    eventually(lambda: _ended(node, lsid), timeout=10)


def test_frames_beyond_the_size_limit_close_the_socket_and_the_peers_are_let_go(
    appliance: RunningAppliance, personas: Personas, api: CommandApi, node: ConsoleNode
) -> None:
    console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Huge", id=str(personas.issue_started)))
    lsid = customer.welcome["session"]["lsid"]
    for socket in (console, customer):
        socket.socket.send_binary(b"x" * (2 * 1024 * 1024))
        with pytest.raises(ConnectionClosed):
            socket.until("never")
    eventually(lambda: _listed(api, personas, False), timeout=10)
    eventually(lambda: _ended(node, lsid), timeout=10)


def _listed(api: CommandApi, personas: Personas, expected: bool) -> None:
    assert (str(personas.rep_a.id) in logged_in(api, personas)) is expected


def _ended(node: ConsoleNode, lsid: str) -> None:
    assert node.session(lsid).status == "ended"


# Requests of every type with fields of any shape: each gets an answer that says what is
# wrong (or does it), never "internal error", and the socket stays.
CONSOLE_TYPES = [
    "take",
    "chat",
    "note",
    "external_key",
    "transfer",
    "invite",
    "leave",
    "end",
    "survey",
    "showing",
    "generate_key",
    "open_script",
    "typing",
    "ping",
]
CUSTOMER_TYPES = ["chat", "typing", "survey", "end", "ping"]
FIELDS = ["lsid", "body", "text", "value", "queue", "rep_id", "answers", "external_key", "hostname", "ref"]
field_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=80),
        st.sampled_from(["0" * 32, "general", "rep:1", "team:99999999999999999999", "9" * 30, "\x00", ""]),
        st.integers(min_value=2**63, max_value=2**80),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def requests(types: list[str], lsid: str) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly about a session the socket is in, so the checks past the lsid are reached."""
    return st.builds(
        lambda kind, fields, real: {**fields, "type": kind, **({"lsid": lsid} if real else {})},
        st.sampled_from(types),
        st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=4),
        st.booleans(),
    )


def answered_without_a_crash(socket: Socket, message: dict[str, Any]) -> None:
    unanswered = message["type"] in ("typing", "ping")
    paced(socket, 2 if unanswered else 1)
    socket.send({**message, "ref": "fuzz"})
    if unanswered:
        socket.send({"type": "ping"})  # no answer of its own to wait for; the socket must stay
        socket.until("pong")
        return
    answer = socket.ack("fuzz")
    assert "internal error" not in str(answer.get("error", "")), message


# Each request's own fields, for the sweep of awkward values below.
CONSOLE_FIELDS = {
    "take": ["lsid"],
    "chat": ["lsid", "body"],
    "note": ["lsid", "text"],
    "external_key": ["lsid", "value"],
    "transfer": ["lsid", "queue"],
    "invite": ["lsid", "rep_id"],
    "survey": ["lsid", "answers"],
    "showing": ["value"],
    "generate_key": ["external_key", "hostname"],
    "open_script": ["text"],
    "typing": ["lsid"],
}
CUSTOMER_FIELDS = {"chat": ["body"], "survey": ["answers"], "typing": []}
AWKWARD = [
    None,
    True,
    0,
    -1,
    2**31,
    2**63,
    2**80,
    1.5,
    "",
    "\x00",
    "9" * 30,
    "x" * 70,
    [],
    {},
    [1],
    {"1": 2},
    {"99999999999999999999": ["x"]},
    "team:99999999999999999999",
    "rep:0",
    "embassy:-1",
]


def awkward_requests(fields_of: dict[str, list[str]], lsid: str) -> list[dict[str, Any]]:
    """Every request with each of its fields awkward in turn (the others right where they can be)."""
    made = []
    for kind, fields in fields_of.items():
        for field in fields:
            for value in AWKWARD:
                made.append({"type": kind, "lsid": lsid, field: value})
    return made


def test_every_console_request_with_awkward_values_is_answered_not_crashed(
    fuzzed_console: tuple[Console, str],
) -> None:
    console, lsid = fuzzed_console
    for message in awkward_requests(CONSOLE_FIELDS, lsid):
        answered_without_a_crash(console, message)


def test_every_customer_request_with_awkward_values_is_answered_not_crashed(
    fuzzed_customer: tuple[CustomerClient, str],
) -> None:
    customer, lsid = fuzzed_customer
    for message in awkward_requests(CUSTOMER_FIELDS, lsid):
        answered_without_a_crash(customer, message)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_console_request_is_answered_not_crashed(fuzzed_console: tuple[Console, str], data: st.DataObject) -> None:
    console, lsid = fuzzed_console
    answered_without_a_crash(console, data.draw(requests(CONSOLE_TYPES, lsid)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_customer_request_is_answered_not_crashed(
    fuzzed_customer: tuple[CustomerClient, str], data: st.DataObject
) -> None:
    customer, lsid = fuzzed_customer
    answered_without_a_crash(customer, data.draw(requests(CUSTOMER_TYPES, lsid)))


# Arbitrary frames: whatever a console or a customer client sends, the appliance answers
# with the protocol's error (or does what a valid request asks), the socket stays open and
# still answers a ping, and the appliance logs no traceback.

# Every type either socket knows, but the two that end the socket on purpose (logout, bye).
FRAME_TYPES = ["hello", "take", "chat", "note", "external_key", "transfer", "invite", "leave", "end", "survey"]
FRAME_TYPES += ["showing", "generate_key", "open_script", "typing", "ping", "ack", "welcome", "error", "dance"]
FRAME_FIELDS = ["type", "ref", "lsid", "body", "text", "value", "queue", "rep_id", "answers", "token", "version"]

text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=200)


def frames(lsid: str) -> st.SearchStrategy[tuple[str, str | bytes]]:
    messages = st.builds(
        lambda kind, fields, real: {**fields, "type": kind, **({"lsid": lsid} if real else {})},
        st.sampled_from(FRAME_TYPES) | field_values,
        st.dictionaries(st.sampled_from(FRAME_FIELDS), field_values, max_size=4),
        st.booleans(),
    )
    return st.one_of(
        st.tuples(st.just("text"), text),
        st.tuples(st.just("binary"), st.binary(max_size=200)),
        st.tuples(st.just("text"), field_values.map(json.dumps)),
        st.tuples(st.just("text"), messages.map(json.dumps)),
    )


def still_answers(socket: Socket, frame: tuple[str, str | bytes]) -> None:
    paced(socket, 2)
    kind, data = frame
    if kind == "binary":
        assert isinstance(data, bytes)
        socket.socket.send_binary(data)
    else:
        assert isinstance(data, str)
        socket.socket.send(data)
    socket.send({"type": "ping"})
    assert socket.until("pong")["type"] == "pong", frame  # a closed socket raises ConnectionClosed


FUZZ = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(data=st.data())
def test_any_frame_on_a_console_leaves_it_answering(fuzzed_console: tuple[Console, str], data: st.DataObject) -> None:
    console, lsid = fuzzed_console
    still_answers(console, data.draw(frames(lsid)))


@FUZZ
@given(data=st.data())
def test_any_frame_on_a_customer_socket_leaves_it_answering(
    fuzzed_customer: tuple[CustomerClient, str], data: st.DataObject
) -> None:
    customer, lsid = fuzzed_customer
    still_answers(customer, data.draw(frames(lsid)))


def test_no_traceback_in_the_log(appliance: RunningAppliance) -> None:
    """After every frame above (the tests of a module run in order, this one last)."""
    assert "Traceback" not in appliance.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def fuzzed_console(appliance: RunningAppliance, personas: Personas) -> Iterator[tuple[Console, str]]:
    console = Console(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Fuzzed", id=str(personas.issue_started)))
    lsid = customer.welcome["session"]["lsid"]
    console.send({"type": "take", "ref": "take", "lsid": lsid})
    assert console.ack("take")["ok"]
    yield console, lsid
    console.close()
    customer.close()


@pytest.fixture(scope="module")
def fuzzed_customer(appliance: RunningAppliance, personas: Personas) -> Iterator[tuple[CustomerClient, str]]:
    customer = CustomerClient(appliance, token=start_by_issue(appliance, "Fuzzy", id=str(personas.issue_started)))
    yield customer, customer.welcome["session"]["lsid"]
    customer.close()
