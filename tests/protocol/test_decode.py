"""The protocol package's decoders: whatever arrives, they answer with a typed message or
the protocol's error, in the words the appliance has always used."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifeline_protocol import (
    CloseCode,
    InvalidRequest,
    ProtocolError,
    console,
    customer,
    decode_console_hello,
    decode_console_request,
    decode_customer_hello,
    decode_customer_request,
    decode_to_console,
    decode_to_customer,
    encode,
)
from lifeline_protocol.common import Ack, Error, Event, EventRecord, Ping, Pong, Typing, Who, event_records

DECODERS = [
    decode_console_hello,
    decode_console_request,
    decode_customer_hello,
    decode_customer_request,
    decode_to_console,
    decode_to_customer,
]
TYPES = [
    "hello",
    "chat",
    "take",
    "note",
    "invite",
    "survey",
    "showing",
    "typing",
    "ping",
    "bye",
    "end",
    "ack",
    "welcome",
]
FIELDS = ["type", "ref", "lsid", "body", "text", "value", "queue", "rep_id", "answers", "token", "last_event_ids"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40) | st.sampled_from(TYPES),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
messages = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(TYPES) | st.text(max_size=10) | json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5),
)


def only_protocol_errors(data: str | bytes) -> None:
    """Each decoder gives a message or raises the protocol's error, with words in it."""
    for decode in DECODERS:
        said = "decoded"
        try:
            decode(data)
        except ProtocolError as error:
            said = str(error)
        assert said, data


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_message_or_the_protocols_error(text: str) -> None:
    only_protocol_errors(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_a_message_or_the_protocols_error(data: bytes) -> None:
    only_protocol_errors(data)


@settings(max_examples=500, deadline=None)
@given(json_values | messages)
def test_any_json_value_is_a_message_or_the_protocols_error(value: Any) -> None:
    only_protocol_errors(json.dumps(value))


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("this is not json", "messages are JSON objects"),
        ("[" * 5000, "messages are JSON objects"),
        ('{"type": "chat", "x": ' + "[" * 30000 + "]" * 30000 + "}", "messages are JSON objects"),
        ("[1, 2, 3]", "messages are JSON objects with a type"),
        ('{"type": 5}', "messages are JSON objects with a type"),
        ('{"ref": "r"}', "messages are JSON objects with a type"),
        (json.dumps({"type": "chat", "body": "x" * 70_000}), "messages are limited to 65536 bytes"),
    ],
)
def test_frames_that_are_no_message_get_the_protocols_error(frame: str, error: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode_console_request(frame)
    assert not isinstance(raised.value, InvalidRequest)
    assert str(raised.value) == error


LSID = "0" * 32


def record(**fields: Any) -> EventRecord:
    made = {"id": 1, "type": "Chat Message", "at": 1.5, "performed_by": None, "destination": None, "body": None}
    made |= {"filename": None, "filesize": None, "file_id": None, "data": [], "ref": None}
    return event_records([made | fields])[0]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "dance"}, "unknown message type 'dance'"),
        ({"type": "hello"}, "unknown message type 'hello'"),
        ({"type": "chat", "lsid": LSID, "body": 5}, "body must be text"),
        ({"type": "chat", "lsid": LSID, "body": ""}, "body is missing"),
        ({"type": "chat", "lsid": LSID}, "body is missing"),
        ({"type": "chat", "lsid": LSID, "body": "x" * 20000}, "body is longer than 16384 characters"),
        ({"type": "take"}, "lsid is missing"),
        ({"type": "take", "lsid": "x" * 33}, "lsid is longer than 32 characters"),
        ({"type": "invite", "lsid": LSID, "rep_id": "two"}, "rep_id must be a number"),
        ({"type": "invite", "lsid": LSID, "rep_id": True}, "rep_id must be a number"),
        ({"type": "invite", "lsid": LSID, "rep_id": 2**31}, "rep_id must be a number"),
        ({"type": "invite", "lsid": LSID}, "rep_id must be a number"),
        (
            {"type": "survey", "lsid": LSID, "answers": []},
            "answers must be an object of question id to a list of answers",
        ),
        (
            {"type": "survey", "lsid": LSID, "answers": {"x": []}},
            "answers must be an object of question id to a list of answers",
        ),
        ({"type": "showing", "value": "yes"}, "value must be true or false"),
        ({"type": "external_key", "lsid": LSID, "value": 5}, "value must be text"),
        ({"type": "take", "lsid": LSID, "ref": ""}, "ref must be text of at most 64 characters"),
        ({"type": "take", "lsid": LSID, "ref": "r" * 65}, "ref must be text of at most 64 characters"),
    ],
)
def test_invalid_requests_say_what_is_wrong_under_their_ref(message: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        decode_console_request(json.dumps({**message, "ref": "bad", **message}))
    assert str(raised.value) == error
    assert raised.value.ref == ("bad" if "ref" not in message else None)


def test_requests_decode_to_their_records() -> None:
    chat = decode_console_request(json.dumps({"type": "chat", "ref": "r1", "lsid": LSID, "body": "hi"}))
    assert chat == console.Chat(ref="r1", lsid=LSID, body="hi")
    survey = decode_customer_request('{"type": "survey", "answers": {"3": ["a", 2, null]}}')
    assert isinstance(survey, customer.Survey) and survey.answers == {"3": ["a", 2, None]}
    assert decode_customer_request('{"type": "typing", "lsid": 5}') == customer.StartTyping()
    assert decode_console_request('{"type": "ping", "lsid": 5}') == Ping()


def test_a_chat_line_may_hold_a_lone_surrogate_stored_exactly() -> None:
    chat = decode_customer_request('{"type": "chat", "body": "a\\ud800b"}')
    assert chat == customer.Chat(body="a\ud800b")
    event = Event(lsid=LSID, event=record(body="a\ud800b\x00"))
    assert decode_to_console(encode(event)) == event


def test_hellos_old_and_new() -> None:
    assert decode_console_hello('{"type": "hello"}') == console.Hello()
    hello = decode_console_hello('{"type": "hello", "resume_token": null, "last_event_ids": {"a": 4}, "version": 1}')
    assert (hello.resume_token, hello.last_event_ids, hello.version) == (None, {"a": 4}, 1)
    assert decode_customer_hello('{"type": "hello", "token": "t"}') == customer.Hello(token="t")
    for not_hello in ['{"type": "hello"}', '{"token": "t"}', '{"type": "chat", "token": "t"}', '{"type": "\\u0000"}']:
        with pytest.raises(ProtocolError):
            decode_customer_hello(not_hello)


def test_what_the_appliance_sends_reads_back_as_sent() -> None:
    sent = [
        Ack(ref="r", ok=True, result={"short_key": "1234567"}),
        Ack(ref=None, ok=False, error="no such session"),
        Ack(ref="s", ok=True, showing=False),
        Error(error="too many messages; slow down", ref="r"),
        Pong(at=1.5),
        Event(lsid=LSID, event=record(body="hi")),
        Typing(lsid=LSID, who=Who(type="customer", gsnumber=3, name="")),
        console.Reps(reps=[console.Rep(id=1, name="Alice", sessions=2)]),
        customer.Duty(on_duty=True),
        customer.State(session=customer.SessionView(lsid=LSID, status="waiting", queue_name="General", reps=[])),
    ]
    for message in sent:
        decode = decode_to_customer if isinstance(message, customer.Duty | customer.State) else decode_to_console
        assert decode(encode(message)) == message
    assert json.loads(encode(Ack(ref="r", ok=True))) == {"type": "ack", "ref": "r", "ok": True}
    assert json.loads(encode(Ack.done("r"))) == {"type": "ack", "ref": "r", "ok": True, "result": None}


def test_close_codes() -> None:
    assert [int(code) for code in CloseCode] == [
        1000,
        1001,
        1006,
        1009,
        1012,
        1013,
        4400,
        4401,
        4403,
        4408,
        4409,
        4410,
        4421,
    ]
