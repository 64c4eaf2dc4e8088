"""The statistics an admin chose (the welcome's list), each gathered only when asked: who is
at the console, CPU over the interval, the system drive's use, uptime, a small picture of
the screen. Runs in a worker thread: psutil and the capture may take a moment."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import sys
import time
from fractions import Fraction
from typing import Any

import psutil
from lifeline_protocol.jump import MAX_THUMBNAIL, Statistic, Statistics

log = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 200  # pixels, at most


def console_user() -> str:
    """The user of the console's session (the graphical seat, else the first logged in)."""
    try:
        users = psutil.users()
    except (OSError, psutil.Error):
        return ""
    for user in users:
        terminal = (user.terminal or "").lower()
        if terminal in ("console", ":0", "tty1", "seat0") or terminal.startswith(":"):
            return str(user.name)
    return str(users[0].name) if users else ""


def system_drive() -> str:
    if sys.platform == "win32":
        return os.environ.get("SYSTEMDRIVE", "C:") + "\\"
    return "/"


def disk_percent() -> float | None:
    try:
        return float(psutil.disk_usage(system_drive()).percent)
    except OSError:
        return None


def uptime() -> int:
    return max(0, int(time.time() - psutil.boot_time()))


def has_display() -> bool:
    linux = sys.platform.startswith("linux")
    return not linux or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def thumbnail() -> str | None:
    """A data: URL of a JPEG of the primary screen at most 200 px wide; None when there is no
    display or it cannot be captured (quietly: a server has none)."""
    if not has_display():
        return None
    try:
        import mss
        from av.codec.context import CodecContext
        from av.video.frame import VideoFrame

        with mss.mss() as capture:
            monitors = capture.monitors
            shot = capture.grab(monitors[1] if len(monitors) > 1 else monitors[0])
        width, height = shot.size
        small_w = min(THUMBNAIL_WIDTH, width) // 2 * 2
        small_h = max(2, int(height * small_w / max(1, width)) // 2 * 2)
        frame = VideoFrame(width, height, "bgra")
        plane = frame.planes[0]
        raw = bytes(shot.bgra)
        row = width * 4
        if plane.line_size == row:
            plane.update(raw)
        else:
            padding = b"\0" * (plane.line_size - row)
            plane.update(b"".join(raw[y * row : (y + 1) * row] + padding for y in range(height)))
        picture = frame.reformat(width=small_w, height=small_h, format="yuvj420p")
        encoder: Any = CodecContext.create("mjpeg", "w")
        encoder.width, encoder.height, encoder.pix_fmt = small_w, small_h, "yuvj420p"
        encoder.time_base = Fraction(1, 1)
        encoder.open()
        data = b"".join(bytes(packet) for packet in [*encoder.encode(picture), *encoder.encode(None)])
    except Exception as error:  # any capture or codec failure: no picture this time
        log.debug("no thumbnail: %s", error)
        return None
    url = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return url if len(url) <= MAX_THUMBNAIL else None


def prime_cpu() -> None:
    """psutil's cpu_percent measures since its last call: the first call starts the interval."""
    with contextlib.suppress(OSError):
        psutil.cpu_percent(interval=None)


def gather(wanted: list[Statistic]) -> Statistics:
    values: dict[str, Any] = {}
    if "console_user" in wanted:
        values["console_user"] = console_user()[:1000]
    if "cpu" in wanted:
        with contextlib.suppress(OSError):
            values["cpu"] = min(100.0, max(0.0, float(psutil.cpu_percent(interval=None))))
    if "disk" in wanted:
        values["disk"] = disk_percent()
    if "uptime" in wanted:
        values["uptime"] = uptime()
    if "thumbnail" in wanted:
        values["thumbnail"] = thumbnail()
    return Statistics(**values)
