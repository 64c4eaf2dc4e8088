"""Screen sharing and control: the real client, as its own process, shares a virtual X display
(Xvfb) with a scripted appliance; the test decodes its VP8 frames with PyAV and checks the
pixels against a Tk window it drew, and clicks and types into that window through the
client."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from lifeline_client.screen import IN_FLIGHT, Callbacks, Settings, Share
from lifeline_protocol import client as wire
from lifeline_protocol import screen
from lifeline_protocol.binary import Frame, FrameKind

from tests.client.scripted import Certificate, ScriptedAppliance, make_certificate, run_client, stop_client
from tests.support import screen_target
from tests.support.xvfb import Display, resize_monitor, xvfb

__all__ = ["xvfb"]  # the fixture, used by name

RED = (0xE0, 0x20, 0x20)


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path)


@pytest.fixture
def appliance(certificate: Certificate) -> Iterator[ScriptedAppliance]:
    scripted = ScriptedAppliance(certificate)
    yield scripted
    scripted.close()


@pytest.fixture
def display(xvfb: Display, monkeypatch: pytest.MonkeyPatch) -> Display:
    monkeypatch.setenv("DISPLAY", xvfb.name)  # the client and the target program draw and capture there
    return xvfb


def start_target(out: Path, *extra: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.screen_target", str(out), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def stop_target(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(5)
    if process.stdout is not None:
        process.stdout.close()


@pytest.fixture
def target(display: Display, tmp_path: Path) -> Iterator[Path]:
    """The Tk target program, its counter still; yields the file its text field writes."""
    out = tmp_path / "typed.txt"
    process = start_target(out)
    yield out
    stop_target(process)


@pytest.fixture
def counting(display: Display, tmp_path: Path) -> Iterator[Path]:
    """The target program with its counter changing 30 times a second."""
    out = tmp_path / "typed.txt"
    process = start_target(out, "--count")
    yield out
    stop_target(process)


def start(appliance: ScriptedAppliance, *, width: int = 1280, height: int = 800, fps: int = 15) -> wire.ScreenStarted:
    appliance.send(wire.StartScreen(request="s1", stream=7, fps=fps, kbits=2000, max_width=width, max_height=height))
    started: wire.ScreenStarted = appliance.next(wire.ScreenStarted)
    done = appliance.next(wire.Done)
    assert done.request == "s1"
    return started


def frames(appliance: ScriptedAppliance, seconds: float) -> list[Frame]:
    """The SCREEN frames that arrive in the next `seconds`."""
    found: list[Frame] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            _, item = appliance.received.get(timeout=left)
        except queue.Empty:
            break
        if isinstance(item, Frame):
            found.append(item)
    return found


class Decoder:
    def __init__(self) -> None:
        self.context = av.CodecContext.create("vp8", "r")

    def picture(self, frame: Frame) -> av.VideoFrame | None:
        pictures = self.context.decode(av.Packet(frame.payload))
        return pictures[-1] if pictures else None


def pixel(picture: av.VideoFrame, x: int, y: int) -> tuple[int, int, int]:
    rgb = picture.reformat(format="rgb24")
    plane = rgb.planes[0]
    offset = y * plane.line_size + x * 3
    data = bytes(plane)
    return data[offset], data[offset + 1], data[offset + 2]


def near(found: tuple[int, int, int], wanted: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(found, wanted, strict=True))


def test_the_screen_is_shared_as_vp8_frames_a_key_frame_on_request_until_stopped(
    appliance: ScriptedAppliance, certificate: Certificate, counting: Path
) -> None:
    process = run_client(appliance.port, certificate.cert, "--allow", "screen")
    try:
        appliance.hello()
        started = start(appliance, width=640, height=640)
        assert (started.stream, started.width, started.height, started.monitor) == (7, 640, 400, 1)
        assert [(m.number, m.width, m.height, m.primary) for m in started.monitors] == [(1, 1280, 800, True)]
        seen = frames(appliance, 2)
        assert len(seen) >= 5, "frames keep coming while the counter changes (a loaded machine is slower)"
        assert {f.header.kind for f in seen} == {FrameKind.SCREEN} and {f.header.stream for f in seen} == {7}
        assert [f.header.sequence for f in seen] == list(range(1, len(seen) + 1))
        assert seen[0].header.key and seen[0].header.timestamp < 1000
        decoder = Decoder()
        pictures = [p for p in map(decoder.picture, seen) if p is not None]
        last = pictures[-1]
        assert (last.width, last.height) == (640, 400)
        x, y, w, h = screen_target.BLOCK
        assert near(pixel(last, (x + w // 2) // 2, (y + h // 2) // 2), RED)  # the block, at half scale
        assert near(pixel(last, 1200 // 2, 750 // 2), (255, 255, 255))  # the window's white
        # A viewer joins: the next frames include a key frame.
        appliance.send(wire.KeyFrame(stream=7))
        assert any(f.header.key for f in frames(appliance, 1))
        # Stopped and started again at once (the stop may still be under way): sharing goes on, from a key frame.
        appliance.send(wire.StopScreen(stream=7))
        start(appliance, width=640, height=640)
        assert appliance.next(Frame).header.key
        appliance.send(wire.StopScreen(stream=7))
        stopped = appliance.next(wire.ScreenStopped)
        assert (stopped.stream, stopped.error) == (7, "")
        assert frames(appliance, 1) == []
    finally:
        out, _ = stop_client(process)
    assert "Your screen is shared with the representative. Type /revoke screen to stop." in out
    assert "Your screen is no longer shared." in out


def test_a_still_screen_sends_little_and_a_share_switches(
    appliance: ScriptedAppliance, certificate: Certificate, target: Path
) -> None:
    process = run_client(appliance.port, certificate.cert, "--allow", "screen")
    try:
        appliance.hello()
        start(appliance)
        frames(appliance, 1.5)  # the first pictures, and VP8 sharpening them
        still = frames(appliance, 5)
        sent = sum(len(f.payload) for f in still)
        assert 2 <= len(still) <= 6, "a frame every 2 s or so, no more"
        assert sent * 8 / 5 < 100_000, f"{sent * 8 / 5:.0f} bit/s on a still screen"
        # Another monitor: there is none; the same one smaller: started again, a key frame first.
        appliance.send(
            wire.StartScreen(request="s2", stream=7, monitor=2, fps=15, kbits=2000, max_width=1280, max_height=800)
        )
        failed = appliance.next(wire.Failed)
        assert (failed.request, failed.error) == ("s2", "There is no monitor 2: this computer has 1.")
        appliance.send(
            wire.StartScreen(request="s3", stream=7, monitor=1, fps=15, kbits=2000, max_width=320, max_height=320)
        )
        again = appliance.next(wire.ScreenStarted)
        assert (again.width, again.height, again.monitor) == (320, 200, 1)
        assert appliance.next(wire.Done).request == "s3"
        first = appliance.next(Frame)
        assert first.header.key and first.header.sequence > still[-1].header.sequence
        picture = Decoder().picture(first)
        assert picture is not None and (picture.width, picture.height) == (320, 200)
    finally:
        stop_client(process)


def test_the_representative_clicks_and_types_into_a_program(
    appliance: ScriptedAppliance, certificate: Certificate, target: Path
) -> None:
    process = run_client(appliance.port, certificate.cert, "--allow", "screen,control")
    try:
        appliance.hello()
        start(appliance, width=640, height=400)  # half scale: the client maps pointers back
        fx, fy = screen_target.FIELD
        events: list[screen.InputEvent] = [
            screen.PointerMove(x=fx // 2, y=fy // 2),
            screen.PointerButton(x=fx // 2, y=fy // 2, button="left", down=True),
            screen.PointerButton(x=fx // 2, y=fy // 2, button="left", down=False),
            screen.TypeText(text="hel"),
            screen.Key(key="l", down=True),
            screen.Key(key="l", down=False),
            screen.Key(key="o", down=True),
            screen.Key(key="o", down=False),
            screen.Key(key="NoSuchKey", down=True),  # dropped by the client
        ]
        appliance.send(wire.ScreenInput(stream=7, events=events))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not target.exists() or target.read_text() != "hello"):
            time.sleep(0.05)
        assert target.read_text() == "hello"
        appliance.send(wire.ScreenInput(stream=7, events=[screen.TypeText(text=" World!")]))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and target.read_text() != "hello World!":
            time.sleep(0.05)
        assert target.read_text() == "hello World!"  # Shift where the keymap needs it
    finally:
        out, err = stop_client(process)
    assert "A representative is controlling your mouse and keyboard." in out
    assert "unknown key 'NoSuchKey'" in err


def test_control_and_sharing_are_refused_unless_allowed(
    appliance: ScriptedAppliance, certificate: Certificate, target: Path
) -> None:
    process = run_client(appliance.port, certificate.cert)
    try:
        appliance.hello()
        appliance.send(wire.StartScreen(request="s0", stream=7, fps=15, kbits=2000, max_width=1280, max_height=800))
        failed = appliance.next(wire.Failed)
        assert (failed.request, failed.error) == ("s0", "The customer has not allowed seeing the screen")
        appliance.send(wire.ConsentAnswer(capability="screen", allowed=True))
        assert appliance.next(wire.Consent).capability == "screen"
        start(appliance)
        fx, fy = screen_target.FIELD
        appliance.send(
            wire.ScreenInput(
                stream=7,
                events=[
                    screen.PointerButton(x=fx, y=fy, button="left", down=True),
                    screen.PointerButton(x=fx, y=fy, button="left", down=False),
                    screen.TypeText(text="nope"),
                ],
            )
        )
        appliance.send(wire.SetClipboard(text="not allowed"))
        time.sleep(1)
        assert not target.exists() or target.read_text() == ""
        # The customer takes the screen back: sharing stops.
        appliance.send(wire.ConsentAnswer(capability="screen", allowed=False))
        assert appliance.next(wire.ScreenStopped).stream == 7
    finally:
        _, err = stop_client(process)
    assert "ignored the representative's input: The customer has not allowed control" in err
    assert "ignored the representative's clipboard: The customer has not allowed control" in err


def test_no_display_fails_the_share_not_the_client(
    appliance: ScriptedAppliance, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    process = run_client(appliance.port, certificate.cert, "--allow", "screen")
    try:
        appliance.hello()
        appliance.send(wire.StartScreen(request="s1", stream=7, fps=15, kbits=2000, max_width=1280, max_height=800))
        failed = appliance.next(wire.Failed)
        assert failed.request == "s1" and failed.error.startswith("no screen to share: ")
        assert appliance.next(wire.ScreenStopped).error.startswith("no screen to share: ")
        time.sleep(0.5)
        assert process.poll() is None  # still serving
    finally:
        stop_client(process)


def tk(display: Display, code: str) -> subprocess.Popen[str]:
    """A Tk program on the display (Tk reads and owns the X clipboard as any program does)."""
    script = f"import tkinter, sys\nroot = tkinter.Tk()\nroot.withdraw()\n{code}"
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=display.env())


def test_the_clipboard_goes_both_ways_while_control_is_allowed(
    appliance: ScriptedAppliance, certificate: Certificate, display: Display
) -> None:
    process = run_client(appliance.port, certificate.cert, "--allow", "screen,control")
    try:
        appliance.hello()
        # The representative's text, pasted by a program of the customer's.
        appliance.send(wire.SetClipboard(text="from the rep: ünïcode"))
        deadline = time.monotonic() + 10
        pasted = ""
        while time.monotonic() < deadline and pasted != "from the rep: ünïcode":
            reader = tk(display, "print(root.clipboard_get(), end='')")
            pasted, _ = reader.communicate(timeout=10)
        assert pasted == "from the rep: ünïcode"
        # The customer copies in another program: the client sends it.
        copier = tk(
            display,
            "root.clipboard_clear()\nroot.clipboard_append('copied here')\nroot.update()\nprint('ok', flush=True)\nroot.mainloop()",
        )
        try:
            assert copier.stdout is not None and copier.stdout.readline().strip() == "ok"
            assert appliance.next(wire.ClipboardChanged, timeout=5).text == "copied here"
        finally:
            copier.terminate()
            copier.communicate(timeout=5)
    finally:
        stop_client(process)


def test_a_new_resolution_starts_the_share_again(
    appliance: ScriptedAppliance, certificate: Certificate, display: Display
) -> None:
    process = run_client(appliance.port, certificate.cert, "--allow", "screen")
    try:
        appliance.hello()
        start(appliance)
        frames(appliance, 0.5)
        resize_monitor(display, 1024, 640)
        again = appliance.next(wire.ScreenStarted, timeout=5)
        assert (again.width, again.height, again.monitor) == (1024, 640, 1)
        assert again.monitors[0].width == 1024
        first = appliance.next(Frame)
        assert first.header.key
        picture = Decoder().picture(first)
        assert picture is not None and (picture.width, picture.height) == (1024, 640)
    finally:
        stop_client(process)


def test_buttons_the_wheel_and_key_combinations(
    appliance: ScriptedAppliance, certificate: Certificate, target: Path
) -> None:
    events_file = target.with_name(target.name + ".events")
    process = run_client(appliance.port, certificate.cert, "--allow", "screen,control")
    try:
        appliance.hello()
        start(appliance)
        fx, fy = screen_target.FIELD
        events: list[screen.InputEvent] = [
            screen.PointerButton(x=fx, y=fy, button="left", down=True),
            screen.PointerButton(x=fx, y=fy, button="left", down=False),
            screen.PointerButton(x=300, y=250, button="right", down=True),
            screen.PointerButton(x=300, y=250, button="right", down=False),
            screen.Wheel(x=300, y=250, dy=2),
            screen.Wheel(x=300, y=250, dy=-1),
            screen.Key(key="F5", down=True),
            screen.Key(key="F5", down=False),
            screen.Key(key="Control", down=True),
            screen.Key(key="a", down=True),
            screen.Key(key="a", down=False),
            screen.Key(key="Control", down=False),
            screen.SecureAttention(),
            screen.PointerMove(x=5000, y=10),  # outside the picture: dropped
        ]
        appliance.send(wire.ScreenInput(stream=7, events=events))
        wanted = ["right", "wheel down", "wheel down", "wheel up", "F5", "ctrl-a", "ctrl-alt-delete"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            not events_file.exists() or events_file.read_text().split("\n")[:-1] != wanted
        ):
            time.sleep(0.05)
        assert events_file.read_text().split("\n")[:-1] == wanted
    finally:
        _, err = stop_client(process)
    assert "dropped a PointerMove event outside the shared picture" in err


def test_a_slow_socket_drops_pictures_instead_of_queueing_them(display: Display, counting: Path) -> None:
    """The share hands over at most IN_FLIGHT frames the socket has not written yet."""
    sent: list[bytes] = []
    started = threading.Event()
    callbacks = Callbacks(
        started=lambda message: started.set(),
        answer=lambda request, error: None,
        frame=sent.append,
        ended=lambda error: None,
    )
    share = Share(3, callbacks)
    share.start("r", Settings(monitor=None, fps=30, kbits=1000, max_width=1280, max_height=800))
    try:
        assert started.wait(10)
        time.sleep(1)
        assert len(sent) == IN_FLIGHT, "nothing written: nothing more captured"
        share.written()
        time.sleep(0.5)
        assert len(sent) == IN_FLIGHT + 1
        for _ in range(20):
            share.written()
            time.sleep(0.05)
        assert len(sent) >= IN_FLIGHT + 5  # the counter changes: a written frame lets the next through
    finally:
        share.stop()
