"""A virtual X display for screen sharing's tests: `Xvfb :N -screen 0 1280x800x24` on a free
display number, ready once its socket is there, stopped after."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SOCKETS = Path("/tmp/.X11-unix")
WIDTH, HEIGHT = 1280, 800


@dataclass(frozen=True)
class Display:
    name: str  # ":N", for $DISPLAY
    width: int
    height: int

    def env(self) -> dict[str, str]:
        """The environment of a program that should draw on (or capture) this display."""
        return {**os.environ, "DISPLAY": self.name}


def _free_number() -> int:
    for number in range(90, 200):
        if not (SOCKETS / f"X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise RuntimeError("no free X display number from :90 to :199")


def start_xvfb(width: int = WIDTH, height: int = HEIGHT) -> tuple[Display, subprocess.Popen[bytes]]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (scripts/install --test installs it)")
    for _ in range(5):  # another test run may take the same number at the same moment
        number = _free_number()
        process = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            if (SOCKETS / f"X{number}").exists():
                return Display(f":{number}", width, height), process
            time.sleep(0.05)
        process.kill()
        process.wait()
    raise RuntimeError("Xvfb did not start")


@pytest.fixture
def xvfb() -> Iterator[Display]:
    display, process = start_xvfb()
    try:
        yield display
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def resize_monitor(display: Display, width: int, height: int) -> None:
    """Change the display's one monitor to width x height (within the screen's size), as a
    customer changing the resolution would: a RandR mode made on the spot."""
    from Xlib import display as xdisplay
    from Xlib.ext import randr

    connection = xdisplay.Display(display.name)
    try:
        root = connection.screen().root
        resources = root.xrandr_get_screen_resources()
        name = f"lifeline-{width}x{height}"
        mode = {
            "id": 0, "width": width, "height": height, "dot_clock": 0, "h_sync_start": 0, "h_sync_end": 0,
            "h_total": width, "h_skew": 0, "v_sync_start": 0, "v_sync_end": 0, "v_total": height,
            "name_length": len(name), "flags": 0,
        }  # fmt: skip
        made = root.xrandr_create_mode(mode, name)
        output, crtc = resources.outputs[0], resources.crtcs[0]
        connection.xrandr_add_output_mode(output, made.mode)
        connection.xrandr_set_crtc_config(crtc, resources.config_timestamp, 0, 0, made.mode, randr.Rotate_0, [output])
        connection.sync()
    finally:
        connection.close()
