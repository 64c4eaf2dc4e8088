"""Shared screens against the real server: a scripted Lifeline client (or the customer's
page) shares real VP8 frames, consoles in the session watch them byte for byte from a key
frame, control is checked event by event, bad frames are dropped without closing anything,
and the session's recording becomes a WebM that PyAV plays."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from lifeline_protocol import binary

from tests.support.appliance import RunningAppliance, eventually
from tests.support.client_socket import ProgramSocket
from tests.support.personas import Personas
from tests.support.reporting import ReportingApi, children, tags
from tests.support.screens import ScreenConsole, screen_frame, screen_frames, vp8_pictures
from tests.support.sockets import CustomerClient, sign_in, start_by_issue

PICTURES = vp8_pictures()


class Session:
    def __init__(self, appliance: RunningAppliance, personas: Personas) -> None:
        self.appliance = appliance
        self.personas = personas
        self.alice = ScreenConsole(appliance, sign_in(appliance, "rep_a", personas.rep_a.password))
        self.token = start_by_issue(appliance, "Tess", id=str(personas.issue_started))
        self.customer = CustomerClient(appliance, token=self.token)
        self.lsid: str = self.customer.welcome["session"]["lsid"]
        assert self.request("take", type="take")["ok"]

    def request(self, ref: str, console: ScreenConsole | None = None, **fields: Any) -> dict[str, Any]:
        console = console or self.alice
        console.send({"ref": ref, "lsid": self.lsid, **fields})
        return console.ack(ref)

    def sharing_client(self, allowed: list[str]) -> tuple[ProgramSocket, int]:
        """A client that allowed `allowed` and, asked by Alice, shares a 64x48 screen: its stream."""
        client = ProgramSocket(self.appliance, self.token, allowed=allowed)
        state = self.alice.until("computer")
        while not state["connected"]:
            state = self.alice.until("computer")
        self.alice.send({"type": "screen_start", "ref": "start", "lsid": self.lsid})
        start = client.until("start_screen")
        assert (start["fps"], start["kbits"], start["max_width"]) == (30, 4000, 3840)
        stream = start["stream"]
        client.send({"type": "screen_started", "stream": stream, "width": 64, "height": 48, "monitor": 1})
        client.send({"type": "done", "request": start["request"]})
        assert self.alice.ack("start")["ok"]
        shared = self.alice.screen(lambda s: s["share"] is not None)
        assert shared["share"]["stream"] == stream
        assert (shared["share"]["width"], shared["share"]["height"], shared["share"]["source"]) == (64, 48, "client")
        return client, stream

    def close(self) -> None:
        self.alice.send({"type": "end", "ref": "end", "lsid": self.lsid})
        self.alice.ack("end")
        self.alice.close()
        self.customer.close()


@pytest.fixture
def session(appliance: RunningAppliance, personas: Personas) -> Iterator[Session]:
    running = Session(appliance, personas)
    yield running
    running.close()


def send_pictures(socket: Any, stream: int, first: int = 1) -> list[bytes]:
    frames = [screen_frame(stream, first + n, payload, key=key) for n, (payload, key) in enumerate(PICTURES)]
    for frame in frames:
        socket.send_binary(frame)
    return frames


def test_a_watching_console_gets_the_clients_frames_byte_for_byte(session: Session) -> None:
    assert session.request("watch", type="screen_watch")["ok"]  # before anything is shared
    client, stream = session.sharing_client(["screen"])
    assert client.until("key_frame")["stream"] == stream  # a viewer starts: the client is asked
    sent = send_pictures(client.socket, stream)
    assert screen_frames(session.alice, stream, len(sent)) == sent
    view = session.customer.until("screen")
    while not view["shared"] or view["viewers"] != ["Alice Rep"]:
        view = session.customer.until("screen")
    assert view["source"] == "client"
    client.send({"type": "screen_stopped", "stream": stream, "error": "capture failed"})
    stopped = session.alice.screen(lambda s: s["share"] is None)
    assert stopped["error"] == "capture failed"
    notes = eventually(lambda: _at_least(_notes(session), 2))
    assert notes[0] == "Screen sharing started (monitor 1, 64x48)."
    assert notes[1] == "Screen sharing stopped. (capture failed)"
    client.close()


def _at_least(found: list[str], count: int) -> list[str]:
    assert len(found) >= count, found
    return found


def _notes(session: Session) -> list[str]:
    from sqlalchemy import select

    from lifeline.sessions.models import SessionEvent, SupportSession

    def read(db: Any) -> list[str]:
        rows = db.scalars(
            select(SessionEvent)
            .join(SupportSession, SupportSession.id == SessionEvent.session_id)
            .where(SupportSession.lsid == session.lsid, SessionEvent.event_type == "Session Note Added")
            .order_by(SessionEvent.id)
        ).all()
        return [r.body for r in rows]

    return list(session.appliance.with_session(read))


def test_a_console_not_in_the_session_may_not_watch(session: Session) -> None:
    bob = ScreenConsole(session.appliance, sign_in(session.appliance, "rep_b", session.personas.rep_b.password))
    answer = session.request("watch", bob, type="screen_watch")
    assert not answer["ok"]
    assert answer["error"] == "You are not in this session"
    bob.close()


def test_control_is_checked_event_by_event(session: Session) -> None:
    client, stream = session.sharing_client(["screen"])
    move = {"kind": "move", "x": 10, "y": 10}
    refused = session.request("in1", type="screen_input", events=[move])
    assert refused["error"] == "You are not in control of the screen"
    assert session.request("take", type="screen_control")["ok"]
    state = session.alice.screen(lambda s: s["controller"] is not None)
    assert state["controller_name"] == "Alice Rep"
    refused = session.request("in2", type="screen_input", events=[move])
    assert refused["error"] == "The customer has not allowed control"
    client.send({"type": "consent", "capability": "control", "allowed": True})
    state = session.alice.until("computer")
    while "control" not in state["allowed"]:
        state = session.alice.until("computer")
    outside = session.request("in3", type="screen_input", events=[{"kind": "move", "x": 64, "y": 0}])
    assert "outside the shared screen" in outside["error"]
    unknown = session.request("in4", type="screen_input", events=[{"kind": "key", "key": "Hyper", "down": True}])
    assert unknown["error"] == "Unknown key 'Hyper'"
    typed = [{"kind": "key", "key": "a", "down": True}, {"kind": "text", "text": "hello"}]
    session.alice.send({"type": "screen_input", "lsid": session.lsid, "events": [move, *typed]})
    got = client.until("screen_input")
    assert got["stream"] == stream
    assert got["events"][0] == move
    assert got["events"][2]["text"] == "hello"
    flood = [move] * 64
    for n in range(4):  # 3 events and 4 x 64: over 250 in a second
        session.alice.send({"type": "screen_input", "ref": f"f{n}", "lsid": session.lsid, "events": flood})
    assert "Too much input" in session.alice.ack("f3")["error"]
    assert session.request("clip", type="screen_clipboard", text="from the rep")["ok"]
    assert client.until("set_clipboard")["text"] == "from the rep"
    client.send({"type": "clipboard", "text": "from the customer"})
    assert session.alice.until("clipboard")["text"] == "from the customer"
    assert session.request("release", type="screen_control", release=True)["ok"]
    assert session.request("release2", type="screen_control", release=True)["error"] == (
        "You are not in control of the screen"
    )
    client.close()


def test_bad_frames_are_dropped_and_the_socket_stays(session: Session) -> None:
    assert session.request("watch", type="screen_watch")["ok"]
    client, stream = session.sharing_client(["screen"])
    key, _ = PICTURES[0]
    client.socket.send_binary(screen_frame(stream, 1, b"\0" * 1_000_100, key=True))  # over the cap
    client.socket.send_binary(screen_frame(stream + 1, 1, key, key=True))  # not its stream
    client.socket.send_binary(b"\x07" + bytes(20))  # not a frame at all
    assert client.until("error")["error"] == "unknown frame version 7"
    good = screen_frame(stream, 2, key, key=True)
    client.socket.send_binary(good)
    assert screen_frames(session.alice, stream, 1) == [good]
    log = session.appliance.log_tail()
    assert "1000100 bytes is over the cap of 1000000 (1 dropped so far)" in log  # one line per 100 dropped
    client.close()


def test_the_customers_page_shares_to_a_watching_console(session: Session) -> None:
    session.customer.send({"type": "screen_share", "ref": "share", "width": 64, "height": 48})
    shared = session.customer.ack("share")
    assert shared["ok"]
    stream = shared["result"]["stream"]
    state = session.alice.screen(lambda s: s["share"] is not None)
    assert (state["share"]["stream"], state["share"]["source"]) == (stream, "browser")
    assert session.request("watch", type="screen_watch")["ok"]
    assert session.customer.until("key_frame")["stream"] == stream
    sent = send_pictures(session.customer.socket, stream)
    assert screen_frames(session.alice, stream, len(sent)) == sent
    assert session.request("take", type="screen_control")["error"] == (
        "A screen shared from the customer's browser cannot be controlled"
    )
    session.customer.socket.send_binary(screen_frame(stream + 1, 9, PICTURES[0][0], key=True))
    session.customer.send({"type": "screen_unshare", "ref": "unshare"})
    assert session.customer.ack("unshare")["ok"]
    session.alice.screen(lambda s: s["share"] is None)


def test_without_a_client_the_page_is_asked_to_share(session: Session) -> None:
    assert session.request("start", type="screen_start")["ok"]
    view = session.customer.until("screen")
    assert (view["shared"], view["wanted"]) == (False, "Alice Rep")


def test_the_sessions_recording_is_a_webm_pyav_plays(session: Session) -> None:
    import av

    client, stream = session.sharing_client(["screen"])
    send_pictures(client.socket, stream)
    client.send({"type": "screen_stopped", "stream": stream})
    session.alice.screen(lambda s: s["share"] is None)
    client.close()
    session.alice.send({"type": "end", "ref": "end-now", "lsid": session.lsid})
    assert session.alice.ack("end-now")["ok"]

    from lifeline.recordings.queries import find_recording

    def finished() -> Any:
        found = session.appliance.with_session(lambda db: find_recording(db, session.lsid, "screen"))
        assert found is not None and found.finished
        return found

    eventually(finished, timeout=10)
    reporter = session.appliance.cli_json(
        "user",
        "add",
        "screen_reporter",
        "--password",
        "reporter-password-1",
        "--reporting-api",
        "--view-reports",
        "all_sessions",
        "--view-recordings",
    )
    auth = {"username": "screen_reporter", "password": "reporter-password-1"}
    assert reporter["id"]
    with session.appliance.client() as http:
        reporting = ReportingApi(http)
        report = reporting.call("SupportSession", auth, lsid=session.lsid)  # checked against the XSD
        (record,) = children(report, "session")
        assert {"session_recording_view_url", "session_recording_download_url"} <= set(tags(record))
        response = reporting.raw("SupportSessionRecording", auth, lsid=session.lsid)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/webm"
    webm = session.appliance.data_dir / "downloaded.webm"
    webm.write_bytes(response.content)
    with av.open(str(webm)) as played:
        video = played.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (64, 48)
        assert played.duration is not None and played.duration > 0
        assert sum(1 for packet in played.demux(video) if packet.size) == len(PICTURES)


def test_frames_of_no_share_are_dropped(session: Session) -> None:
    client = ProgramSocket(session.appliance, session.token, allowed=["screen"])
    client.socket.send_binary(screen_frame(77, 1, PICTURES[0][0], key=True))
    client.send({"type": "ping"})
    assert client.until("pong")
    assert binary.FrameKind.SCREEN == 1
    client.close()


def test_control_is_handed_over_and_released_when_its_holder_leaves(session: Session) -> None:
    client, _ = session.sharing_client(["screen", "control"])
    bob = ScreenConsole(session.appliance, sign_in(session.appliance, "rep_b", session.personas.rep_b.password))
    bob_gsnumber = bob.welcome["gsnumber"]
    answer = session.request("to-bob-early", type="screen_control", to=bob_gsnumber)
    assert answer["error"] == "Only the representative in control can hand it over"
    assert session.request("take", type="screen_control")["ok"]
    assert session.request("to-stranger", type="screen_control", to=bob_gsnumber)["error"] == (
        "They are not in this session"
    )
    assert session.request("invite", type="invite", rep_id=session.personas.rep_b.id)["ok"]
    bob.screen(lambda s: s["share"] is not None)  # a console that starts following is told at once
    assert session.request("to-bob", type="screen_control", to=bob_gsnumber)["ok"]
    state = bob.screen(lambda s: s["controller"] == bob_gsnumber)
    assert state["controller_name"] == "Bob Rep"
    assert (
        session.request("take-back", type="screen_control")["error"] == "Bob Rep is in control; they can hand it over"
    )
    assert session.request("leave", bob, type="leave")["ok"]
    session.alice.screen(lambda s: s["controller"] is None)
    notes = eventually(lambda: _at_least(_notes(session), 4))
    assert "Screen control taken." in notes
    assert "Screen control handed to Bob Rep." in notes
    assert "Screen control released: the representative in control left." in notes
    allowed = events_of(session, "Service Access Allowed")
    assert {e["capability"] for e in allowed} >= {"screen", "control"}
    bob.close()
    client.close()


def test_a_client_that_reconnects_ends_its_share(session: Session) -> None:
    client, _ = session.sharing_client(["screen"])
    again = ProgramSocket(session.appliance, session.token, allowed=["screen"])
    stopped = session.alice.screen(lambda s: s["share"] is None)
    assert stopped["error"] == "The customer's Lifeline client disconnected"
    assert again.welcome["type"] == "welcome"
    again.close()
    client.close()


def events_of(session: Session, kind: str) -> list[dict[str, str]]:
    from sqlalchemy import select

    from lifeline.sessions.models import SessionEvent, SupportSession

    def read(db: Any) -> list[dict[str, str]]:
        rows = db.scalars(
            select(SessionEvent)
            .join(SupportSession, SupportSession.id == SessionEvent.session_id)
            .where(SupportSession.lsid == session.lsid, SessionEvent.event_type == kind)
        ).all()
        return [dict(r.data) for r in rows]

    return list(session.appliance.with_session(read))


def test_the_clients_share_replaces_the_pages(session: Session) -> None:
    session.customer.send({"type": "screen_share", "ref": "share", "width": 64, "height": 48})
    page_stream = session.customer.ack("share")["result"]["stream"]
    client, stream = session.sharing_client(["screen"])
    assert stream != page_stream
    view = session.customer.until("screen")
    while view["source"] != "client":
        view = session.customer.until("screen")
    session.customer.send({"type": "screen_share", "ref": "again", "width": 64, "height": 48})
    assert session.customer.ack("again")["error"] == "The screen is already shared"
    client.close()


CAPS = {"screen_max_fps": ("5", "30"), "screen_max_kbits": ("100", "4000"), "screen_max_width": ("1280", "3840")}


def test_the_admins_caps_reach_the_client_and_frames_past_them_are_dropped(session: Session) -> None:
    appliance = session.appliance
    for key, (value, _) in CAPS.items():
        appliance.cli_settled("settings", "set", key, value)
    try:
        client = ProgramSocket(appliance, session.token, allowed=["screen"])
        state = session.alice.until("computer")
        while not state["connected"]:
            state = session.alice.until("computer")
        assert session.request("watch", type="screen_watch")["ok"]
        session.alice.send({"type": "screen_start", "ref": "start", "lsid": session.lsid, "monitor": 2})
        start = client.until("start_screen")
        assert (start["fps"], start["kbits"], start["max_width"], start["monitor"]) == (5, 100, 1280, 2)
        stream = start["stream"]
        client.send({"type": "screen_started", "stream": stream, "width": 64, "height": 48, "monitor": 2})
        client.send({"type": "done", "request": start["request"]})
        assert session.alice.ack("start")["ok"]
        session.alice.send({"type": "screen_start", "ref": "switch", "lsid": session.lsid, "monitor": 1})
        switch = client.until("start_screen")  # another monitor: the same stream
        assert (switch["stream"], switch["monitor"]) == (stream, 1)
        client.send({"type": "done", "request": switch["request"]})
        assert session.alice.ack("switch")["ok"]

        key = PICTURES[0][0]
        client.socket.send_binary(screen_frame(stream, 1, b"\0" * 70_000, key=True))  # over 64 KiB
        for sequence in range(2, 14):  # 12 frames at once: twice 5 a second pass, the rest are dropped
            client.socket.send_binary(screen_frame(stream, sequence, key, key=True))
        got = screen_frames(session.alice, stream, 10)
        assert [binary.unpack_header(f).sequence for f in got] == list(range(2, 12))
        _logged(appliance, "70000 bytes is over the cap of 65536 (1 dropped so far)")  # then one in 100
        client.send({"type": "ping"})
        client.until("pong")  # every frame before it was read
        time.sleep(0.2)
        with pytest.raises(TimeoutError):
            screen_frames(session.alice, stream, 11, timeout=0.3)
        client.close()
    finally:
        for key, (_, default) in CAPS.items():
            appliance.cli_settled("settings", "set", key, default)


def _logged(appliance: RunningAppliance, text: str) -> str:
    log = appliance.log_tail()
    assert text in log
    return log
