"""Screen sharing and control end to end with every real part: the appliance, the real
Lifeline client as its own process sharing a virtual X display (Xvfb) where a small Tk
program shows a red block, a changing counter and a text field, and the rep's console in
Chromium. The rep sees the block in the right colour and the counter change, takes control,
clicks into the field and types `hello`, which the program writes to a file; the session's
recording then plays in /login at the screen's size, and the log says what happened."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, expect
from sqlalchemy import select

from lifeline.sessions.models import SessionEvent, SupportSession
from tests.browser.pages import Console, Customer, LifelineClient, start_with_issue
from tests.browser.test_screen import pixel, plays_in_login
from tests.support import screen_target
from tests.support.appliance import RunningAppliance
from tests.support.personas import Personas
from tests.support.xvfb import HEIGHT, WIDTH, Display, xvfb

__all__ = ["xvfb"]  # the fixture, used by name below


@pytest.fixture
def target(xvfb: Display, tmp_path: Path) -> Iterator[Path]:
    """The Tk program on the display; yields the file its text field is written to."""
    out = tmp_path / "typed.txt"
    program = subprocess.Popen(
        [sys.executable, "-m", "tests.support.screen_target", str(out), "--count"],
        env=xvfb.env(),
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert program.stdout is not None
    assert program.stdout.readline().strip() == b"ready"
    yield out
    program.terminate()
    program.wait(5)
    program.stdout.close()


@pytest.fixture
def alice(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    console = Console(browser, appliance)
    console.page.set_viewport_size({"width": 1400, "height": 900})
    console.sign_in("rep_a", personas.rep_a.password)
    yield console
    assert console.errors == []
    console.close()


@pytest.fixture
def customer(browser: Browser, appliance: RunningAppliance) -> Iterator[Customer]:
    person = Customer(browser, appliance)
    yield person
    assert person.errors == []
    person.close()


def region(canvas: Locator, x: int, y: int, width: int, height: int) -> list[int]:
    pixels: list[int] = canvas.evaluate(
        "(c, [x, y, w, h]) => Array.from(c.getContext('2d').getImageData(x, y, w, h).data)", [x, y, width, height]
    )
    return pixels


def test_the_rep_sees_and_controls_the_clients_screen(
    browser: Browser,
    appliance: RunningAppliance,
    personas: Personas,
    alice: Console,
    customer: Customer,
    xvfb: Display,
    target: Path,
    tmp_path: Path,
    output_dir: Path,
) -> None:
    start_with_issue(customer, personas.issue_started, "Xena Xvfb")
    alice.take("Xena Xvfb")
    client = LifelineClient(
        appliance, customer, tmp_path / "home", tmp_path / "client.log", "screen", "control", env=xvfb.env()
    )
    try:
        computer = alice.page.locator("#computer")
        expect(computer.locator(".client-status")).to_contain_text("The Lifeline client is connected")
        computer.locator('.computer-tab[data-pane="screen"]').click()
        pane = computer.locator(".pane-screen")
        pane.locator("button.show-screen").click()

        # The picture: the whole display, unscaled; the block red, the background white.
        canvas = pane.locator("canvas.screen-canvas")
        expect(canvas).to_be_visible(timeout=20_000)
        alice.page.wait_for_function("(c) => Number(c.dataset.frames || 0) > 0", arg=canvas.element_handle())
        assert canvas.evaluate("(c) => [c.width, c.height]") == [WIDTH, HEIGHT]
        x, y, w, h = screen_target.BLOCK
        red, green, blue = pixel(canvas, x + w // 2, y + h // 2)
        assert red > 180 and green < 70 and blue < 70, (red, green, blue)  # #e02020, through VP8
        assert min(pixel(canvas, 20, 20)) > 220  # white
        # The counter changes 30 times a second: so do the console's pixels over it.
        cx, cy = screen_target.COUNTER
        before = region(canvas, cx - 100, cy - 40, 200, 80)
        deadline = time.monotonic() + 10
        while region(canvas, cx - 100, cy - 40, 200, 80) == before:
            assert time.monotonic() < deadline, "the counter never changed on the rep's screen"
            time.sleep(0.1)
        # Large: the screen takes most of the session's width.
        narrow = canvas.bounding_box()
        assert narrow is not None
        pane.locator("button.enlarge").click()
        expect(pane.locator("button.enlarge")).to_have_attribute("aria-pressed", "true")
        alice.page.wait_for_function(
            "([c, w]) => c.getBoundingClientRect().width > w * 1.3", arg=[canvas.element_handle(), narrow["width"]]
        )
        alice.page.screenshot(path=str(output_dir / "screen-client-share.png"))

        # Control: click into the text field (in the canvas's CSS pixels, as fitted) and type.
        pane.locator("button.take-control").click()
        expect(pane.locator(".controller.mine")).to_be_visible()
        box = canvas.bounding_box()
        assert box is not None
        scale = box["width"] / WIDTH
        fx, fy = screen_target.FIELD
        canvas.click(position={"x": fx * scale, "y": fy * scale})
        alice.page.keyboard.type("hello")
        deadline = time.monotonic() + 15
        while not (target.exists() and target.read_text() == "hello"):
            assert time.monotonic() < deadline, f"typed: {target.read_text() if target.exists() else None!r}"
            time.sleep(0.1)
        time.sleep(1)  # a recording worth playing
    finally:
        alice.page.locator("button.end").click()
        client.stop()

    lsid = appliance.db.call(
        lambda session: session.scalar(
            select(SupportSession.lsid)
            .order_by(SupportSession.id.desc())
            .where(SupportSession.session_type == "support")
        )
    )
    plays_in_login(browser, appliance, lsid, (WIDTH, HEIGHT))

    def logged(session: object) -> list[tuple[str, str]]:
        rows = session.execute(  # type: ignore[attr-defined]
            select(SessionEvent.event_type, SessionEvent.body)
            .join(SupportSession, SupportSession.id == SessionEvent.session_id)
            .where(SupportSession.lsid == lsid)
            .order_by(SessionEvent.id)
        )
        return [(kind, body or "") for kind, body in rows]

    events = appliance.db.call(logged)
    notes = [body for kind, body in events if kind == "Session Note Added"]
    assert f"Screen sharing started (monitor 1, {WIDTH}x{HEIGHT})." in notes, events
    assert "Screen control taken." in notes, events
    assert sum(kind == "Service Access Allowed" for kind, _ in events) >= 2, events  # screen and control, --allow
