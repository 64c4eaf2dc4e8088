"""Sharing the customer's screen: a thread captures a monitor (mss), encodes VP8 (encoder.py)
and hands each picture, packed as a SCREEN frame, to the socket; the event loop never waits
on capture or encoding. A still screen costs almost nothing: an unchanged capture is not
encoded, except a small frame every few seconds and a key frame now and then."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifeline_protocol import binary
from lifeline_protocol import client as wire
from lifeline_protocol.screen import MAX_MONITORS, Monitor

if TYPE_CHECKING:
    from lifeline_client.encoder import Encoder, Packet

log = logging.getLogger(__name__)

STILL_FRAME_EVERY = 2.0  # seconds: a frame even on a still screen (viewers see it is live)
KEY_FRAME_EVERY = 5.0  # seconds: a key frame while the picture changes
STILL_KEY_FRAME_EVERY = 30.0  # ...and on a still screen (a desktop's key frame is tens of KB)
MONITORS_EVERY = 2.0  # seconds between looks at the monitors' geometry (a resolution changed, a monitor unplugged)
IN_FLIGHT = 3  # frames the socket may hold unwritten before pictures are dropped (loop hiccups pass)
SETTLE = 0.5  # seconds of encoding after the last change: VP8 sharpens a still picture over a few frames


@dataclass(frozen=True, slots=True)
class Settings:
    """What `start_screen` asked for."""

    monitor: int | None
    fps: int
    kbits: int
    max_width: int
    max_height: int

    @classmethod
    def of(cls, start: wire.StartScreen) -> Settings:
        return cls(start.monitor, start.fps, start.kbits, start.max_width, start.max_height)


@dataclass(slots=True)
class Geometry:
    """The share as the representative sees it: the monitor, and the encoded picture's size
    (control.py maps the rep's pointer back with it)."""

    monitor: Monitor
    width: int
    height: int


@dataclass(slots=True)
class Callbacks:
    """How the sharing thread talks to the socket; each is called on the sharing thread and
    must be safe there (the connection hands them to its event loop)."""

    started: Callable[[wire.ScreenStarted], None]
    answer: Callable[[str, str | None], None]  # (request, None: done, else the error)
    frame: Callable[[bytes], None]
    ended: Callable[[str], None]  # the share is over: "" or the capture's error


def monitors_of(found: list[dict[str, int]]) -> list[Monitor]:
    """mss's monitors (its first entry is all of them together) as the protocol's, numbered
    from 1; the one mss marks primary, else the first."""
    listed = found[1 : MAX_MONITORS + 1]
    primary = next((i for i, m in enumerate(listed) if m.get("is_primary")), 0)
    return [
        Monitor(
            number=i + 1,
            x=m["left"],
            y=m["top"],
            width=max(1, m["width"]),
            height=max(1, m["height"]),
            primary=i == primary,
        )
        for i, m in enumerate(listed)
    ]


class Share:
    """One stream: started once, switched by later `start_screen`s, stopped once."""

    def __init__(self, stream: int, callbacks: Callbacks) -> None:
        self.stream = stream
        self.callbacks = callbacks
        self.geometry: Geometry | None = None  # set once the first screen_started went out
        self.announced = False  # the customer was told their screen is shared
        self.sent = 0  # frames and bytes handed to the socket (for the logs and tests)
        self.sent_bytes = 0
        self._wanted: list[tuple[str, Settings]] = []  # start_screen requests not applied yet
        self._key_wanted = False
        # Frames handed to the socket and not written yet: at IN_FLIGHT, capture nothing more
        # (a slow socket drops pictures rather than queueing them).
        self._in_flight = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"screen-{stream}")

    # --- from the event loop ------------------------------------------------------------------

    def start(self, request: str, settings: Settings) -> None:
        """The first start, or a switch (another monitor, other caps) of the same stream."""
        with self._lock:
            self._wanted.append((request, settings))
        if not self._thread.is_alive() and not self._stop.is_set():
            self._thread.start()

    def key_frame(self) -> None:
        self._key_wanted = True

    def written(self) -> None:
        """The socket wrote a frame: another may be captured."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return not self._stop.is_set()

    # --- the sharing thread -------------------------------------------------------------------

    def _run(self) -> None:
        error = ""
        try:
            # Here, not at the top: a computer without a display, or where PyAV's libraries do not
            # load (an older macOS than its wheels'), fails this share, not the program.
            import mss

            with mss.MSS() as grabber:
                self._share(grabber)
        except Exception as problem:  # mss's ScreenShotError, libvpx's, a monitor gone...
            log.warning("screen capture failed: %s", problem)
            error = f"no screen to share: {problem}"[:1024]
        self._stop.set()
        with self._lock:
            unanswered, self._wanted = self._wanted, []
        for request, _ in unanswered:
            self.callbacks.answer(request, error or "Sharing stopped.")
        self.callbacks.ended(error)

    def _share(self, grabber: object) -> None:
        from lifeline_client.encoder import Encoder

        encoder: Encoder | None = None
        settings: Settings | None = None
        area: dict[str, int] = {}
        previous: bytes | bytearray = b""
        began = time.monotonic()
        sequence = 0
        last_frame = last_key = last_change = 0.0
        last_look = time.monotonic()
        next_tick = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                wanted, self._wanted = self._wanted, []
            for request, asked in wanted:
                problem = self._switch(grabber, asked)
                if problem:
                    self.callbacks.answer(request, problem)
                    if self.geometry is None:
                        return  # never started: nothing to stop
                    continue
                settings, encoder, previous = asked, None, b""
                self.callbacks.answer(request, None)
            if settings is None or self.geometry is None:
                return
            if encoder is None:
                monitor = self.geometry.monitor
                area = {"left": monitor.x, "top": monitor.y, "width": monitor.width, "height": monitor.height}
                size = (self.geometry.width, self.geometry.height)
                encoder = Encoder((monitor.width, monitor.height), size, settings.kbits * 1000, settings.fps)
                self._key_wanted = True
            now = time.monotonic()
            if now - last_look >= MONITORS_EVERY:
                last_look = now
                if self._moved(grabber, settings):
                    problem = self._switch(grabber, settings)
                    if problem:
                        raise RuntimeError(problem)
                    encoder, previous = None, b""
                    continue
            if self._in_flight < IN_FLIGHT:  # else a slow socket: drop this picture, wait for the next tick
                shot = grabber.grab(area)  # type: ignore[attr-defined]
                raw: bytearray = shot.raw
                changed = raw != previous
                if changed:
                    last_change = now
                    previous = raw
                still = now - last_change > SETTLE
                key = (
                    self._key_wanted
                    or now - last_key >= (STILL_KEY_FRAME_EVERY if still else KEY_FRAME_EVERY)
                    or sequence == 0
                )
                if key or not still or now - last_frame >= STILL_FRAME_EVERY:
                    self._key_wanted = False
                    timestamp = int((now - began) * 1000) & binary.MAX_NUMBER
                    for packet in encoder.encode(raw, shot.width * 4, timestamp, key=key):
                        if len(packet.data) > binary.MAX_PAYLOAD:
                            # Too big for one frame: drop it, ask less of the encoder, start again at a key frame.
                            log.warning("dropped a %d-byte screen frame; lowering the bitrate", len(packet.data))
                            encoder = Encoder(
                                encoder.source, (encoder.width, encoder.height), encoder.bitrate // 2, settings.fps
                            )
                            self._key_wanted = True
                            break
                        sequence = sequence % binary.MAX_NUMBER + 1
                        self._send(packet, sequence, timestamp)
                        last_frame = now
                        if packet.key:
                            last_key = now
            next_tick = max(next_tick + 1 / settings.fps, time.monotonic())
            self._stop.wait(next_tick - time.monotonic())

    def _switch(self, grabber: object, settings: Settings) -> str | None:
        """Apply a start: the monitor's geometry, and screen_started; else the error."""
        from lifeline_client.encoder import fit

        monitors = monitors_of(grabber.monitors)  # type: ignore[attr-defined]
        if not monitors:
            return "no screen to share: no monitor found"
        if settings.monitor is None:
            monitor = next(m for m in monitors if m.primary)
        elif settings.monitor <= len(monitors):
            monitor = monitors[settings.monitor - 1]
        else:
            return f"There is no monitor {settings.monitor}: this computer has {len(monitors)}."
        width, height = fit(monitor.width, monitor.height, settings.max_width, settings.max_height)
        self.geometry = Geometry(monitor, width, height)
        self.callbacks.started(
            wire.ScreenStarted(
                stream=self.stream, width=width, height=height, monitor=monitor.number, monitors=monitors
            )
        )
        return None

    def _moved(self, grabber: object, settings: Settings) -> bool:
        """Whether the shared monitor's place or size changed since the share (re)started."""
        if hasattr(grabber, "_monitors"):
            grabber._monitors = None  # mss keeps the first answer; ask the system again
        monitors = monitors_of(grabber.monitors)  # type: ignore[attr-defined]
        if settings.monitor is None:
            now = next((m for m in monitors if m.primary), None)
        else:
            now = monitors[settings.monitor - 1] if settings.monitor <= len(monitors) else None
        return self.geometry is not None and now != self.geometry.monitor

    def _send(self, packet: Packet, sequence: int, timestamp: int) -> None:
        header = binary.Header(
            kind=binary.FrameKind.SCREEN, stream=self.stream, sequence=sequence, timestamp=timestamp, key=packet.key
        )
        with self._lock:
            self._in_flight += 1
        self.sent += 1
        self.sent_bytes += len(packet.data)
        self.callbacks.frame(binary.pack(header, packet.data))
