"""A presentation across two appliance processes (PostgreSQL and Redis shared): the
presenter's console on one, an attendee on each; chat lines, who attends, the presenter's
screen and the end reach everyone, and the screen is recorded. Runs when DATABASE_URL and REDIS_URL point at real servers (as CI does)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import msgspec
from lifeline_protocol import binary, decode_to_attendee
from lifeline_protocol import console as wire

from tests.support.appliance import RunningAppliance, eventually, needs_two_processes
from tests.support.client_socket import ShellConsole, receive
from tests.support.personas import Personas
from tests.support.reporting import ReportingApi, provision_reporters
from tests.support.screens import screen_frame, vp8_pictures
from tests.support.sockets import Attendee, Console, sign_in

pytestmark = needs_two_processes


def test_attendees_on_either_process_share_the_presentation(
    pair: tuple[RunningAppliance, RunningAppliance], people: Personas
) -> None:
    first, second = pair
    alice = Console(first, sign_in(first, "rep_a", people.rep_a.password))
    alice.send(wire.PresentationStart(ref="present"))
    started = alice.ack("present")["result"]
    near = Attendee(first, key=started["short_key"], name="Near Nell")
    far = Attendee(second, key=started["short_key"], name="Far Fran")
    assert far.welcome["presentation"]["presenter"] == "Alice Rep"
    while [a["name"] for a in near.until("state")["presentation"]["attendees"]] != ["Near Nell", "Far Fran"]:
        pass

    far.send({"type": "chat", "ref": "f1", "body": "Hello from the other node"})
    assert far.ack("f1")["ok"]
    assert near.event("Chat Message")["event"]["body"] == "Hello from the other node"
    assert alice.event("Chat Message")["event"]["performed_by"]["name"] == "Far Fran"
    alice.send(wire.Chat(ref="a1", lsid=started["lsid"], body="Hello both"))
    assert alice.ack("a1")["ok"]
    assert far.event("Chat Message")["event"]["body"] == "Hello both"

    alice.send(wire.PresentationEnd(ref="end", lsid=started["lsid"]))
    assert alice.ack("end")["ok"]
    assert far.event("Session End")["event"]["data"] == [["reason", "ended by presenter"]]
    assert far.close_code() == 4410
    assert near.close_code() == 4410
    alice.send({"type": "logout"})
    alice.close()


class FrameAttendee(Attendee):
    """An attendee whose binary messages (the presenter's screen) are kept in `frames`."""

    frames: list[bytes]

    def until(self, *types: str, timeout: float = 10) -> dict[str, Any]:
        if not hasattr(self, "frames"):
            self.frames = []
        end = time.monotonic() + timeout
        while True:
            raw = receive(self.socket, max(end - time.monotonic(), 0.01))
            if isinstance(raw, bytes):
                self.frames.append(raw)
                continue
            message: dict[str, Any] = msgspec.to_builtins(decode_to_attendee(raw))
            if message["type"] in types:
                return message

    def pictures(self, count: int, *, timeout: float = 10) -> list[binary.Frame]:
        end = time.monotonic() + timeout
        while len(getattr(self, "frames", [])) < count:
            raw = receive(self.socket, max(end - time.monotonic(), 0.01))
            if isinstance(raw, bytes):
                self.frames.append(raw)
        return [binary.unpack(frame) for frame in self.frames[:count]]


def test_an_attendee_on_the_other_process_watches_the_presenters_screen_and_it_is_recorded(
    pair: tuple[RunningAppliance, RunningAppliance], people: Personas
) -> None:
    first, second = pair
    alice = ShellConsole(first, sign_in(first, "rep_a", people.rep_a.password))
    alice.send(wire.PresentationStart(ref="present"))
    started = alice.ack("present")["result"]
    lsid = started["lsid"]
    far = FrameAttendee(second, key=started["short_key"], name="Far Fran")
    far.frames = []

    alice.send(wire.PresentationShare(ref="share", lsid=lsid, width=64, height=48))
    stream = alice.ack("share")["result"]["stream"]
    shown = far.until("screen")["share"]
    assert (shown["stream"], shown["width"], shown["height"], shown["codec"]) == (stream, 64, 48, "vp8")
    assert alice.until("key_frame")["stream"] == stream  # the attendee starts watching: a key frame, please

    # The presenter sends as a live sender does, again and again: the first pictures may go
    # out before the other process listens to the stream (it then asks for a key frame again).
    pictures = vp8_pictures(4)
    sequence = 0
    for _ in range(20):
        for payload, key in pictures:
            sequence += 1
            alice.socket.send_binary(screen_frame(stream, sequence, payload, key=key))
        with contextlib.suppress(TimeoutError):
            got = far.pictures(len(pictures), timeout=0.5)
            break
    else:
        raise AssertionError("the attendee got no pictures")
    start = got[0].header.sequence
    assert (start - 1) % len(pictures) == 0  # from a key frame on, whole and in order
    assert [(f.header.stream, f.header.sequence, f.header.key) for f in got] == [
        (stream, start + n, key) for n, (_, key) in enumerate(pictures)
    ]
    assert [f.payload for f in got] == [payload for payload, _ in pictures]

    alice.send(wire.PresentationUnshare(ref="unshare", lsid=lsid))
    assert alice.ack("unshare")["ok"]
    assert far.until("screen")["share"] is None
    alice.send(wire.PresentationEnd(ref="end", lsid=lsid))
    assert alice.ack("end")["ok"]
    assert far.close_code() == 4410

    reporters = provision_reporters(first, people.rep_b, people.integration)
    with first.client() as client:
        reporting = ReportingApi(client)

        def recorded() -> bytes:
            response = reporting.raw("PresentationRecording", reporters.everything.params, lsid=lsid)
            assert response.headers["content-type"] == "video/webm", response.text[:300]
            return response.content

        assert eventually(recorded, timeout=20)[:4] == b"\x1a\x45\xdf\xa3"
    alice.send({"type": "logout"})
    alice.close()
