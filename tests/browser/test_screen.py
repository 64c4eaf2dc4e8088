"""The customer's screen in the browsers, against the real appliance and its relay: the
rep's Screen pane asks for the screen and for control and the customer's page words them;
a customer without the client shares from their page (Chromium's fake capture, VP8 from
WebCodecs), the rep's console shows the picture on its canvas, and the recording plays in
/login; the rep in control clicks and types on the canvas and the Lifeline client (spoken
at the protocol's level) gets the input in the picture's pixels, with the clipboard both
ways; control is handed from one rep to another."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lifeline_protocol import binary
from playwright.sync_api import Browser, Locator, Page, Playwright, expect

from tests.browser.conftest import ARGS, CHROMIUM
from tests.browser.pages import Console, Customer, new_context, site_url, start_with_issue
from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance
from tests.support.client_socket import ProgramSocket
from tests.support.personas import Personas

# The customer's browser shares Chromium's fake screen: no picker, a moving test pattern.
CAPTURE_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
]

# The Lifeline client's pictures, made the way a VP8 encoder makes them: a 1280x800 screen,
# its left half red and right half blue, every frame a key frame (any can start a viewer).
ENCODE_PICTURES = """async (count) => {
  const canvas = new OffscreenCanvas(1280, 800);
  const context = canvas.getContext("2d");
  const chunks = [];
  const encoder = new VideoEncoder({
    output: (chunk) => { const data = new Uint8Array(chunk.byteLength); chunk.copyTo(data); chunks.push(data); },
    error: (error) => { throw error; },
  });
  encoder.configure({ codec: "vp8", width: 1280, height: 800, bitrate: 1000000, framerate: 10 });
  for (let i = 0; i < count; i++) {
    context.fillStyle = "#ff0000"; context.fillRect(0, 0, 640, 800);
    context.fillStyle = "#0000ff"; context.fillRect(640, 0, 640, 800);
    const picture = new VideoFrame(canvas, { timestamp: i * 100000 });
    encoder.encode(picture, { keyFrame: true });
    picture.close();
  }
  await encoder.flush();
  return chunks.map((data) => { let text = ""; for (const b of data) text += String.fromCharCode(b); return btoa(text); });
}"""

# The colour at a point of the rep's canvas (in the picture's pixels).
PIXEL = """(canvas, [x, y]) => Array.from(canvas.getContext("2d").getImageData(x, y, 1, 1).data).slice(0, 3)"""


def pixel(canvas: Locator, x: int, y: int) -> list[int]:
    colour: list[int] = canvas.evaluate(PIXEL, [x, y])
    return colour


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + CAPTURE_ARGS)
    yield launched
    launched.close()


def console_errors(page: Page, errors: list[str]) -> None:
    """A refused script or style (the pages' CSP), or a script's console.error, is an error too."""
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )


@pytest.fixture
def alice(browser: Browser, appliance: RunningAppliance, personas: Personas) -> Iterator[Console]:
    console = Console(browser, appliance)
    console_errors(console.page, console.errors)
    console.page.set_viewport_size({"width": 1400, "height": 900})
    console.sign_in("rep_a", personas.rep_a.password)
    yield console
    assert console.errors == []
    console.close()


@pytest.fixture
def customer(browser: Browser, appliance: RunningAppliance) -> Iterator[Customer]:
    person = Customer(browser, appliance)
    console_errors(person.page, person.errors)
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
    expect(computer.locator(".computer-state")).not_to_contain_text("null")

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


def picture_frames(browser: Browser, appliance: RunningAppliance, count: int) -> list[bytes]:
    context = new_context(browser)  # WebCodecs needs a secure page: one of the appliance's
    try:
        page = context.new_page()
        page.goto(site_url(appliance) + "/")
        chunks: list[str] = page.evaluate(ENCODE_PICTURES, count)
    finally:
        context.close()
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


def test_a_customer_without_the_client_shares_from_the_page_and_the_rep_sees_it(
    browser: Browser,
    appliance: RunningAppliance,
    personas: Personas,
    alice: Console,
    customer: Customer,
    output_dir: Path,
) -> None:
    start_with_issue(customer, personas.issue_started, "Bea Browser")
    alice.take("Bea Browser")
    pane = screen_pane(alice)
    pane.locator("button.show-screen").click()  # no client: the customer's page is asked

    wanted = customer.page.locator("#screen-share .screen-wanted")
    expect(wanted).to_contain_text("Alice Rep asks to see your screen.")
    wanted.locator("button.share-screen").click()  # Chromium's fake capture, no picker
    expect(customer.page.locator("#screen-share .sharing")).to_contain_text(
        "You are sharing your screen from this page with Alice Rep."
    )

    # The console decodes the page's VP8 pictures onto its canvas: the fake screen's size
    # and its green test pattern (whose brightness pulses).
    canvas = pane.locator("canvas.screen-canvas")
    expect(canvas).to_be_visible()
    expect(pane.locator(".screen-source")).to_contain_text("Shared from the customer's browser, 1280\u00d7720")
    assert canvas.evaluate("(c) => [c.width, c.height]") == [1280, 720]
    red, green, blue = pixel(canvas, 10, 10)
    assert green > 40 and red < 30 and blue < 30, (red, green, blue)
    expect(pane.locator(".screen-control")).to_contain_text("can be seen, not controlled")
    alice.page.screenshot(path=str(output_dir / "screen-browser-share.png"))

    time.sleep(1.5)  # a recording worth playing
    customer.page.locator("#screen-share button.stop-sharing").click()
    expect(pane.locator("button.show-screen")).to_be_visible()
    expect(canvas).to_be_hidden()
    expect(customer.page.locator("#screen-share")).to_be_hidden()

    # The appliance recorded the share; at the session's end it is a seekable WebM that
    # plays in /login at the shared size.
    lsid = alice.page.locator("#computer .computer-panel").get_attribute("data-lsid")
    alice.page.locator("button.end").click()
    expect(customer.page.locator("#thanks")).to_be_visible()
    plays_in_login(browser, appliance, lsid, (1280, 720))


def plays_in_login(browser: Browser, appliance: RunningAppliance, lsid: str | None, size: tuple[int, int]) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        base = site_url(appliance)
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/login/status$"))
        video = page.locator("#recordings video.recording-video").first
        deadline = time.monotonic() + 15
        while True:  # the remux runs as the session ends
            page.goto(f"{base}/login/reports/sessions/{lsid}")
            if video.count() or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        page.wait_for_function(
            "(v) => v.readyState >= 1 && Number.isFinite(v.duration) && v.duration > 0.5", arg=video.element_handle()
        )
        assert video.evaluate("(v) => [v.videoWidth, v.videoHeight]") == list(size)
        video.evaluate("(v) => { v.currentTime = v.duration / 2; }")  # seekable
        page.wait_for_function("(v) => !v.seeking && v.readyState >= 2", arg=video.element_handle())
        assert video.evaluate("(v) => v.error") is None
        assert page.locator("#recordings a", has_text="Download").count() >= 1
    finally:
        context.close()


def test_the_rep_in_control_clicks_and_types_in_the_pictures_pixels(
    appliance: RunningAppliance,
    browser: Browser,
    personas: Personas,
    alice: Console,
    customer: Customer,
    programs: list[ProgramSocket],
) -> None:
    frames = picture_frames(browser, appliance, 3)
    start_with_issue(customer, personas.issue_started, "Carl Control")
    alice.take("Carl Control")
    program = ProgramSocket(appliance, token_of(customer), allowed=["screen", "control"])
    programs.append(program)
    computer = alice.page.locator("#computer")
    expect(computer.locator(".client-status")).to_contain_text("The Lifeline client is connected")
    computer.locator('.computer-tab[data-pane="screen"]').click()
    pane = screen_pane(alice)
    pane.locator("button.show-screen").click()

    start = program.until("start_screen")
    stream = start["stream"]
    monitors = [
        {"number": 1, "x": 0, "y": 0, "width": 1280, "height": 800, "primary": True},
        {"number": 2, "x": 1280, "y": 0, "width": 640, "height": 400},
    ]
    program.send(
        {
            "type": "screen_started",
            "stream": stream,
            "codec": "vp8",
            "width": 1280,
            "height": 800,
            "monitor": 1,
            "monitors": monitors,
        }
    )
    program.send({"type": "done", "request": start["request"]})
    canvas = wait_for_pictures(alice, program, stream, frames)
    expect(pane.locator("select.monitor option")).to_have_count(2)
    red = pixel(canvas, 160, 400)
    blue = pixel(canvas, 1120, 400)
    assert red[0] > 200 and red[2] < 60, red
    assert blue[2] > 200 and blue[0] < 60, blue

    # Control: taken, then a click a quarter across and half down the picture, shown scaled
    # to fit the pane, is about (320, 400) in the customer's pixels; typed keys go by name.
    pane.locator("button.take-control").click()
    expect(pane.locator(".controller.mine")).to_be_visible()
    expect(customer.page.locator("#screen-share .sharing")).to_contain_text(
        "You are sharing your screen with Alice Rep. Alice Rep controls your mouse and keyboard."
    )
    box = canvas.bounding_box()
    assert box is not None and box["width"] < 1000  # Fit: smaller than the picture
    alice.page.mouse.click(box["x"] + box["width"] / 4, box["y"] + box["height"] / 2)
    alice.page.keyboard.type("hi")
    alice.page.keyboard.press("Enter")
    pane.locator("button.ctrl-alt-del").click()

    events: list[dict[str, Any]] = []
    while not any(e["kind"] == "ctrl_alt_del" for e in events):
        message = program.until("screen_input")
        assert message["stream"] == stream
        events += message["events"]
    buttons = [(e["button"], e["down"]) for e in events if e["kind"] == "button"]
    assert buttons == [("left", True), ("left", False)]
    for event in events:
        if event["kind"] == "button":  # within the rounding of one CSS pixel at this scale
            assert abs(event["x"] - 320) <= 3 and abs(event["y"] - 400) <= 3, event
    keys = [(e["key"], e["down"]) for e in events if e["kind"] == "key"]
    assert keys == [("h", True), ("h", False), ("i", True), ("i", False), ("Enter", True), ("Enter", False)]

    # 1:1: the picture pixel for pixel, the pane scrolls.
    pane.locator("button.one-to-one").click()
    expect(canvas).to_have_js_property("clientWidth", 1280)

    # The clipboard both ways, and another monitor.
    pane.locator("textarea[name=clipboard]").fill("C:\\Temp\\report.txt")
    pane.locator("button", has_text="Send clipboard text").click()
    assert program.until("set_clipboard")["text"] == "C:\\Temp\\report.txt"
    program.send({"type": "clipboard", "text": "copied on the customer's side"})
    expect(pane.locator("textarea.copied")).to_have_value("copied on the customer's side")
    expect(pane.locator("button.copy")).to_be_visible()
    pane.locator("select.monitor").select_option("2")
    again = program.until("start_screen")
    assert (again["stream"], again["monitor"]) == (stream, 2)

    pane.locator("button.release").click()
    expect(pane.locator("button.take-control")).to_be_visible()

    # The customer stops it from their page: seeing the screen is taken back.
    customer.page.locator("#screen-share button.stop-sharing").click()
    answer = program.until("consent_answer")
    assert (answer["capability"], answer["allowed"]) == ("screen", False)


def test_control_is_handed_over_and_both_reps_see_the_screen(
    appliance: RunningAppliance,
    browser: Browser,
    personas: Personas,
    alice: Console,
    customer: Customer,
    programs: list[ProgramSocket],
) -> None:
    frames = picture_frames(browser, appliance, 2)
    bob = Console(browser, appliance).sign_in("rep_b", personas.rep_b.password)
    console_errors(bob.page, bob.errors)
    try:
        start_with_issue(customer, personas.issue_started, "Hana Handover")
        alice.take("Hana Handover")
        alice.page.select_option(".invite-form select", label="Bob Rep")
        alice.page.click(".invite-form button")
        expect(bob.page.locator(".summary .customer-name")).to_have_text("Hana Handover")
        program = ProgramSocket(appliance, token_of(customer), allowed=["screen", "control"])
        programs.append(program)
        for console in (alice, bob):
            expect(console.page.locator("#computer .client-status")).to_contain_text("is connected")
            console.page.locator('#computer .computer-tab[data-pane="screen"]').click()
        screen_pane(alice).locator("button.show-screen").click()
        start = program.until("start_screen")
        stream = start["stream"]
        program.send(
            {"type": "screen_started", "stream": stream, "codec": "vp8", "width": 1280, "height": 800, "monitor": 1}
        )
        program.send({"type": "done", "request": start["request"]})
        for console in (alice, bob):  # every rep in the session sees it
            wait_for_pictures(console, program, stream, frames)

        screen_pane(alice).locator("button.take-control").click()
        expect(screen_pane(bob).locator(".controller")).to_have_text("Alice Rep is in control.")
        screen_pane(alice).locator("button.hand-over", has_text="Hand over to Bob Rep").click()
        expect(screen_pane(bob).locator(".controller.mine")).to_be_visible()
        expect(screen_pane(alice).locator(".controller")).to_have_text("Bob Rep is in control.")
        expect(customer.page.locator("#screen-share .sharing")).to_contain_text("Bob Rep controls your mouse")

        canvas = screen_pane(bob).locator("canvas.screen-canvas")
        canvas.click()
        bob.page.keyboard.press("F5")
        events: list[dict[str, Any]] = []
        while not any(e["kind"] == "key" for e in events):
            events += program.until("screen_input")["events"]
        assert [(e["key"], e["down"]) for e in events if e["kind"] == "key"][:1] == [("F5", True)]
        assert bob.errors == []
    finally:
        bob.close()
