"""Screen sharing's surfaces fuzzed against the real server: any screen_input a console in
control sends, any binary frame on the console's, customer's, client's and attendee's
sockets, and any screen_started/screen_stopped/clipboard the client says, are answered
with a clear error or done; the socket stays and the appliance logs no traceback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifeline_protocol import console as console_wire

from tests.realtime.test_bad_frames import field_values
from tests.realtime.test_presentation_two_processes import FrameAttendee
from tests.support.appliance import RunningAppliance
from tests.support.client_socket import ProgramSocket
from tests.support.personas import Personas
from tests.support.screens import ScreenConsole, screen_frame, vp8_pictures
from tests.support.sockets import Attendee, Console, CustomerClient, Socket, sign_in, start_by_issue

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
PAUSE = 0.07  # two frames each: under the 30 a second a socket may send


@dataclass
class Shared:
    alice: ScreenConsole
    customer: CustomerClient
    client: ProgramSocket
    lsid: str
    stream: int
    presenter: Console
    attendee: Attendee
    presentation: dict[str, Any]


@pytest.fixture(scope="module")
def shared(appliance: RunningAppliance, personas: Personas) -> Iterator[Shared]:
    """Alice in control of a 64x48 share from a client; Bob presents to an attendee."""
    alice = ScreenConsole(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
    token = start_by_issue(appliance, "Fuzz Screen", id=str(personas.issue_started))
    customer = CustomerClient(appliance, token=token)
    lsid = customer.welcome["session"]["lsid"]
    alice.send({"type": "take", "ref": "take", "lsid": lsid})
    assert alice.ack("take")["ok"]
    client = ProgramSocket(appliance, token, allowed=["screen", "control"])
    while not alice.until("computer")["connected"]:
        pass
    alice.send({"type": "screen_start", "ref": "start", "lsid": lsid})
    start = client.until("start_screen")
    stream = start["stream"]
    client.send({"type": "screen_started", "stream": stream, "width": 64, "height": 48, "monitor": 1})
    client.send({"type": "done", "request": start["request"]})
    assert alice.ack("start")["ok"]
    alice.send({"type": "screen_control", "ref": "control", "lsid": lsid})
    assert alice.ack("control")["ok"]

    presenter = Console(appliance, sign_in(appliance, "rep_b", personas.rep_b.password))
    presenter.send(console_wire.PresentationStart(ref="present"))
    started = presenter.ack("present")["result"]
    attendee = Attendee(appliance, key=started["short_key"], name="Fuzz Attendee")
    assert attendee.welcome["type"] == "welcome", attendee.welcome
    yield Shared(alice, customer, client, lsid, stream, presenter, attendee, started)
    for socket in (attendee, presenter, alice, customer):
        socket.close()
    client.close()


def no_crash_before_pong(socket: Socket) -> None:
    """Whatever the socket answers before its pong says what was wrong, never an internal error."""
    socket.send({"type": "ping"})
    while True:
        answer = socket.until("ack", "error", "pong")
        if answer["type"] == "pong":
            return
        assert "internal error" not in str(answer.get("error", "")), answer


INPUT_TYPES = ["move", "click", "down", "up", "scroll", "key", "text", "wheel", "", "dance"]
INPUT_FIELDS = ["type", "x", "y", "button", "key", "text", "dx", "dy", "down", "count"]
input_event = st.one_of(
    field_values,
    st.builds(
        lambda kind, fields: {"type": kind, **fields},
        st.sampled_from(INPUT_TYPES),
        st.dictionaries(st.sampled_from(INPUT_FIELDS), field_values | st.integers(-10, 100), max_size=4),
    ),
)


@FUZZ
@given(events=st.one_of(field_values, st.lists(input_event, max_size=40)))
def test_any_screen_input_from_the_console_in_control_is_answered_not_crashed(shared: Shared, events: Any) -> None:
    time.sleep(PAUSE)
    shared.alice.send({"type": "screen_input", "ref": "fuzz", "lsid": shared.lsid, "events": events})
    no_crash_before_pong(shared.alice)


def binary_frames(stream: int) -> st.SearchStrategy[bytes]:
    """Bytes of any kind, and screen frames with any header on the share's stream or another."""
    return st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda s, sequence, payload, key: screen_frame(
                s, sequence, payload, key=key, timestamp=sequence % 1000 + 1
            ),
            st.sampled_from([stream, stream % (2**32 - 1) + 1, 1]) | st.integers(1, 2**32 - 1),
            st.integers(0, 2**32 - 1),
            st.binary(max_size=100) | st.sampled_from([p for p, _ in vp8_pictures(2)]),
            st.booleans(),
        ),
    )


@FUZZ
@given(data=st.data())
def test_any_binary_frame_on_any_screen_socket_leaves_it_answering(shared: Shared, data: st.DataObject) -> None:
    frame = data.draw(binary_frames(shared.stream))
    for socket in (shared.alice, shared.customer, shared.presenter, shared.attendee):
        time.sleep(PAUSE)
        socket.socket.send_binary(frame)
        no_crash_before_pong(socket)
    shared.client.socket.send_binary(frame)
    client_still_answers(shared.client)


def client_still_answers(client: ProgramSocket) -> None:
    time.sleep(PAUSE)
    client.send({"type": "ping"})
    client.until("pong")  # a closed socket raises ConnectionClosed


CLIENT_TYPES = ["screen_started", "screen_stopped", "clipboard"]
CLIENT_FIELDS = ["stream", "width", "height", "monitor", "monitors", "codec", "error", "text", "request"]


@FUZZ
@given(data=st.data())
def test_any_screen_message_from_the_client_leaves_it_answering(shared: Shared, data: st.DataObject) -> None:
    message = data.draw(
        st.builds(
            lambda kind, fields: {**fields, "type": kind},
            st.sampled_from(CLIENT_TYPES),
            st.dictionaries(st.sampled_from(CLIENT_FIELDS), field_values | st.text(max_size=300), max_size=5),
        )
    )
    if message["type"] == "screen_stopped" and message.get("stream") == shared.stream:
        message["stream"] = shared.stream + 1  # the real share ending would only narrow what follows
    time.sleep(PAUSE)
    shared.client.socket.send(json.dumps(message))
    client_still_answers(shared.client)


def test_a_clipboard_over_the_cap_is_refused_and_the_socket_stays(shared: Shared) -> None:
    shared.alice.send({"type": "screen_clipboard", "ref": "big", "lsid": shared.lsid, "text": "x" * (64 * 1024 + 1)})
    assert shared.alice.until("ack", "error")["error"]  # the frame may be refused before it is read
    no_crash_before_pong(shared.alice)
    shared.client.send({"type": "clipboard", "text": "y" * (64 * 1024 + 1)})
    client_still_answers(shared.client)


def test_no_frames_reach_a_viewer_outside_the_presentation(appliance: RunningAppliance, shared: Shared) -> None:
    """Bob shows his screen: his attendee gets the frames; Alice's console (not in Bob's
    presentation) may not watch, and an attendee of Alice's presentation gets none."""
    mine = FrameAttendee(appliance, key=shared.presentation["short_key"], name="Mine")
    shared.alice.send(console_wire.PresentationStart(ref="alice-present"))
    other = FrameAttendee(appliance, key=shared.alice.ack("alice-present")["result"]["short_key"], name="Other")
    other.frames = []
    bob_lsid = shared.presentation["lsid"]
    shared.presenter.send(console_wire.PresentationShare(ref="share", lsid=bob_lsid, width=64, height=48))
    stream = shared.presenter.ack("share")["result"]["stream"]
    shared.alice.send({"type": "screen_watch", "ref": "peek", "lsid": bob_lsid})
    assert shared.alice.ack("peek")["error"]
    mine.until("screen")
    pictures = vp8_pictures(4)
    for sequence, (payload, key) in enumerate(pictures, start=1):
        shared.presenter.socket.send_binary(screen_frame(stream, sequence, payload, key=key))
    assert [f.header.stream for f in mine.pictures(len(pictures))] == [stream] * len(pictures)
    other.send({"type": "ping"})
    other.until("pong")
    assert other.frames == []
    for socket in (mine, other):
        socket.close()


def test_no_traceback_in_the_log(appliance: RunningAppliance) -> None:
    """After every frame above (the tests of a module run in order, this one last)."""
    assert "Traceback" not in appliance.log_path.read_text(errors="replace")
