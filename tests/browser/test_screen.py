"""The customer's screen in the browsers: the rep's Screen pane asks for the screen and for
control and the customer's page words them; a customer without the client shares from
their page (Chromium's fake capture, VP8 from WebCodecs) and the rep's console shows the
picture on its canvas; the rep in control clicks and types on the canvas and the Lifeline
client (spoken at the protocol's level) gets the input in the picture's pixels."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from lifeline_protocol import binary
from playwright.sync_api import Browser, Locator, Playwright, expect

from tests.browser.conftest import ARGS, CHROMIUM
from tests.browser.pages import Console, Customer, start_with_issue
from tests.support.appliance import RunningAppliance
from tests.support.client_socket import ProgramSocket
from tests.support.personas import Personas

# The customer's browser shares Chromium's fake screen: no picker, a moving test pattern.
CAPTURE_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
]

# The Lifeline client's pictures, made the way a VP8 encoder makes them: a 320x200 screen,
# its left half red and right half blue, every frame a key frame (any can start a viewer).
ENCODE_PICTURES = """async (count) => {
  const canvas = new OffscreenCanvas(320, 200);
  const context = canvas.getContext("2d");
  const chunks = [];
  const encoder = new VideoEncoder({
    output: (chunk) => { const data = new Uint8Array(chunk.byteLength); chunk.copyTo(data); chunks.push(data); },
    error: (error) => { throw error; },
  });
  encoder.configure({ codec: "vp8", width: 320, height: 200, bitrate: 500000, framerate: 10 });
  for (let i = 0; i < count; i++) {
    context.fillStyle = "#ff0000"; context.fillRect(0, 0, 160, 200);
    context.fillStyle = "#0000ff"; context.fillRect(160, 0, 160, 200);
    const picture = new VideoFrame(canvas, { timestamp: i * 100000 });
    encoder.encode(picture, { keyFrame: true });
    picture.close();
  }
  await encoder.flush();
  return chunks.map((data) => { let text = ""; for (const b of data) text += String.fromCharCode(b); return btoa(text); });
}"""

# The colour at a point of the rep's canvas (in the picture's pixels).
PIXEL = """([canvas, x, y]) => Array.from(canvas.getContext("2d").getImageData(x, y, 1, 1).data).slice(0, 3)"""


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + CAPTURE_ARGS)
    yield launched
    launched.close()


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


@pytest.fixture
def programs() -> Iterator[list[ProgramSocket]]:
    started: list[ProgramSocket] = []
    yield started
    for program in started:
        program.close()


def token_of(customer: Customer) -> str:
    found = re.search(r"/chat/([\w-]+)$", customer.page.url)
    assert found, customer.page.url
    return found[1]


def screen_pane(console: Console) -> Locator:
    return console.page.locator("#computer .pane-screen")


def test_the_rep_asks_for_the_screen_and_control_in_the_customers_words(
    appliance: RunningAppliance,
    personas: Personas,
    alice: Console,
    customer: Customer,
    programs: list[ProgramSocket],
) -> None:
    start_with_issue(customer, personas.issue_started, "Sam Screen")
    alice.take("Sam Screen")
    computer = alice.page.locator("#computer")
    pane = screen_pane(alice)

    # Without the client the Screen pane says what can still be done: a browser share.
    expect(computer.locator('.computer-tab[data-pane="screen"]')).to_be_visible()
    expect(pane.locator(".no-client")).to_contain_text("The Lifeline client is not running")
    expect(pane.locator("button.show-screen")).to_have_text("Ask the customer to share their screen")

    programs.append(ProgramSocket(appliance, token_of(customer)))
    expect(computer.locator(".client-status")).to_contain_text("The Lifeline client is connected")
    computer.locator('.computer-tab[data-pane="screen"]').click()
    expect(pane.locator(".not-allowed")).to_contain_text("has not allowed you to see their screen")
    expect(pane.locator("button.show-screen")).to_be_disabled()
    pane.locator("button.ask", has_text="Ask to see the screen").click()
    expect(pane.locator(".not-allowed")).to_contain_text("Asked, waiting for the customer…")
    asking = customer.page.locator('#computer .asking[data-capability="screen"]')
    expect(asking).to_contain_text("Alice Rep asks to see your screen.")

    computer.locator('.capability[data-capability="control"] button.ask').click()
    expect(customer.page.locator('#computer .asking[data-capability="control"]')).to_contain_text(
        "Alice Rep asks to control your mouse and keyboard."
    )
    asking.locator("button.allow").click()
    answer = programs[0].until("consent_answer")
    assert (answer["capability"], answer["allowed"]) == ("screen", True)
    programs[0].send({"type": "consent", "capability": "screen", "allowed": True})  # the real client enforces it
    expect(customer.page.locator('#computer .allowed li[data-capability="screen"]')).to_contain_text("See your screen")
    expect(pane.locator("button.show-screen")).to_be_enabled()
    expect(pane.locator("button.show-screen")).to_have_text("Show screen")


def picture_frames(browser: Browser, count: int) -> list[bytes]:
    page = browser.new_page()
    try:
        page.goto("about:blank")
        chunks: list[str] = page.evaluate(ENCODE_PICTURES, count)
    finally:
        page.close()
    return [base64.b64decode(chunk) for chunk in chunks]


def wait_for_pictures(console: Console, program: ProgramSocket, stream: int, frames: list[bytes]) -> Any:
    """The client sends its pictures until the console has drawn one."""
    canvas = screen_pane(console).locator("canvas.screen-canvas")
    deadline = time.monotonic() + 15
    sequence = 0
    while time.monotonic() < deadline:
        for payload in frames:
            sequence += 1
            header = binary.Header(binary.FrameKind.SCREEN, stream, sequence, timestamp=sequence * 100, key=True)
            program.socket.send_binary(binary.pack(header, payload))
        if canvas.evaluate("(c) => Number(c.dataset.frames || 0)") > 0:
            return canvas
        time.sleep(0.2)
    raise AssertionError("the console drew no picture")
