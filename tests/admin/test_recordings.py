"""A session's recordings on its report page: listed with kind, start, duration and size;
screen and presentation recordings (real WebM, made by Chromium's MediaRecorder as screen
sharing makes them) play in a <video> from a /login route that answers range requests;
command shells play in the page from the screens the appliance replays; and nobody gets a
recording the Reporting API would not give them."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lifeline.directory.models import ViewReports
from lifeline.recordings.actions import RecordingKind
from lifeline.recordings.recorder import record_command_shell, record_screen
from lifeline.recordings.store import RecordingStore
from lifeline.reports.browse import session_report
from lifeline.reports.criteria import Viewer
from tests.admin.helpers import AdminClient, signed_in
from tests.browser.pages import new_context, site_url
from tests.support.activity import SessionDriver
from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.personas import Personas

# What a customer's Windows shell showed: a listing, then the screen cleared and ipconfig.
SHELL = [
    (0.0, "o", "C:\\> "),
    (0.3, "i", "dir\r"),
    (0.35, "o", "dir\r\n"),
    (0.5, "o", " Volume in drive C\r\n\x1b[32mreadme.txt\x1b[0m  notes.md\r\n"),
    (1.0, "o", "C:\\> "),
    (1.5, "o", "\x1b[2J\x1b[Hipconfig\r\n\x1b[1mIPv4 Address. . . : 10.0.0.7\x1b[0m\r\n"),
    (2.0, "o", "C:\\> exit\r\n"),
]
SHELL_LENGTH = 2.0

# Chromium records a canvas that changes colour and counts frames, as screen sharing would
# record a screen: MediaRecorder's WebM (no duration, no cues), sent in chunks.
RECORD_CANVAS = """async (milliseconds) => {
  const canvas = document.createElement("canvas");
  canvas.width = 160;
  canvas.height = 120;
  document.body.append(canvas);
  const context = canvas.getContext("2d");
  const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm;codecs=vp8" });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  let n = 0;
  const draw = setInterval(() => {
    context.fillStyle = `hsl(${(n * 24) % 360}, 80%, 50%)`;
    context.fillRect(0, 0, 160, 120);
    context.fillStyle = "#fff";
    context.fillText(String(n++), 70, 60);
  }, 40);
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start(250);
  await new Promise((resolve) => setTimeout(resolve, milliseconds));
  recorder.stop();
  await stopped;
  clearInterval(draw);
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}"""


@dataclass(frozen=True)
class Recorded:
    lsid: str  # rep_a's session in Team A: a screen, a presentation and a command shell
    screen: int  # recording ids
    presentation: int
    shell: int
    webm: bytes
    other_lsid: str  # a session with a recording still running and one whose file is gone
    running: int
    expired: int


def recording_ids(appliance: RunningAppliance, lsid: str) -> dict[str, int]:
    report = appliance.call(session_report, lsid, Viewer(ViewReports.ALL_SESSIONS, None, recordings=True))
    assert report is not None
    return {f"{r.kind}{r.instance}": r.id for r in report.recordings}


@pytest.fixture(scope="module")
def webm(browser: Browser) -> bytes:
    page = browser.new_page()
    try:
        page.goto("about:blank")
        data = base64.b64decode(page.evaluate(RECORD_CANVAS, 1500))
    finally:
        page.close()
    assert data.startswith(b"\x1a\x45\xdf\xa3") and len(data) > 1000
    return data


@pytest.fixture(scope="module")
def recorded(appliance: RunningAppliance, personas: Personas, node: ConsoleNode, webm: bytes) -> Iterator[Recorded]:
    store = RecordingStore(appliance.data_dir / "recordings")
    rep_a = node.log_in("rep_a")
    session = SessionDriver(
        node, node.start_session(f"team:{personas.team_a}", customer_name="Casey Customer"), appliance.data_dir
    )
    session.take(rep_a)
    for kind in (RecordingKind.SCREEN, RecordingKind.PRESENTATION):
        with record_screen(appliance.db, store, session.lsid, kind) as video:
            for start in range(0, len(webm), 4096):  # as MediaRecorder's chunks arrive
                video.write(webm[start : start + 4096])
    with record_command_shell(appliance.db, store, session.lsid, session.actor(rep_a)) as shell:
        for at, code, data in SHELL:
            (shell.output if code == "o" else shell.input)(data, at=at)
    session.end(by=rep_a)

    other = SessionDriver(node, node.start_session(f"team:{personas.team_a}"), appliance.data_dir).take(rep_a)
    with record_command_shell(appliance.db, store, other.lsid, other.actor(rep_a)) as gone:
        gone.output("lost\r\n", at=0.1)
    for path in (appliance.data_dir / "recordings").rglob(f"{other.lsid}-command_shell-0.cast"):
        path.unlink()
    running = record_screen(appliance.db, store, other.lsid)  # never closed: still recording
    running.write(webm[:4096])
    node.log_out(rep_a)

    ids = recording_ids(appliance, session.lsid)
    other_ids = recording_ids(appliance, other.lsid)
    yield Recorded(
        session.lsid,
        ids["screen0"],
        ids["presentation0"],
        ids["command_shell0"],
        webm,
        other.lsid,
        other_ids["screen0"],
        other_ids["command_shell0"],
    )
    running.close()


def section(page: str) -> str:
    return page.split('id="recordings"')[1].split("</section>")[0]


# --- the list and the files --------------------------------------------------------------


def test_the_session_page_lists_its_recordings(admin: AdminClient, recorded: Recorded) -> None:
    recordings = section(admin.get(f"/login/reports/sessions/{recorded.lsid}").text)
    rows = re.findall(r"<tr>(.*?)</tr>", recordings.split("<tbody>")[1], re.S)
    labels = [re.sub(r"<[^>]+>", "", row.split("</td>")[0]).strip() for row in rows]
    assert labels == ["Screen", "Presentation", "Command shell 0"]
    size = f"{len(recorded.webm) / 1024:.1f} KB"
    assert size in rows[0] and "00:00:0" in rows[0]
    assert f'href="/login/reports/recordings/{recorded.screen}?download=1"' in rows[0]
    assert (
        f'<video class="recording-video" controls preload="metadata" src="/login/reports/recordings/{recorded.screen}"'
        f' data-size="{len(recorded.webm)}"' in recordings
    )
    assert f'data-screens="/login/reports/recordings/{recorded.shell}/screens"' in recordings


def test_running_and_expired_recordings_are_listed_but_not_served(admin: AdminClient, recorded: Recorded) -> None:
    recordings = section(admin.get(f"/login/reports/sessions/{recorded.other_lsid}").text)
    assert "Still being recorded" in recordings
    assert "Expired (its file is no longer kept)" in recordings
    assert "<video" not in recordings and "shell-player" not in recordings
    for recording, message in ((recorded.running, "still being recorded"), (recorded.expired, "expired")):
        response = admin.get(f"/login/reports/recordings/{recording}")
        assert response.status_code == 404
        assert message in response.text


def test_a_video_is_served_whole_inline_or_as_a_download(admin: AdminClient, recorded: Recorded) -> None:
    inline = admin.get(f"/login/reports/recordings/{recorded.screen}")
    assert inline.status_code == 200
    assert inline.content == recorded.webm
    assert inline.headers["content-type"] == "video/webm"
    assert inline.headers["accept-ranges"] == "bytes"
    assert inline.headers["content-disposition"].startswith("inline;")
    assert inline.headers["x-content-type-options"] == "nosniff"
    download = admin.get(f"/login/reports/recordings/{recorded.presentation}", params={"download": "1"})
    assert download.headers["content-disposition"] == f'attachment; filename="{recorded.lsid}-presentation.webm"'
    shell = admin.get(f"/login/reports/recordings/{recorded.shell}", params={"download": "1"})
    assert shell.headers["content-type"].startswith("application/x-asciicast")
    assert json.loads(shell.content.splitlines()[0])["version"] == 2


@pytest.mark.parametrize(
    ("ask", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-50", -50, None), ("bytes=10-999999", 10, None)],
)
def test_range_requests_answer_206_with_those_bytes(
    admin: AdminClient, recorded: Recorded, ask: str, first: int, last: int | None
) -> None:
    size = len(recorded.webm)
    start = first % size
    end = size - 1 if last is None else last
    response = admin.get(f"/login/reports/recordings/{recorded.screen}", headers={"Range": ask})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
    assert response.content == recorded.webm[start : end + 1]
    assert response.headers["content-type"] == "video/webm"


def test_a_range_past_the_end_is_416(admin: AdminClient, recorded: Recorded) -> None:
    size = len(recorded.webm)
    response = admin.get(f"/login/reports/recordings/{recorded.screen}", headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


def test_a_shell_is_replayed_as_screens(admin: AdminClient, recorded: Recorded) -> None:
    response = admin.get(f"/login/reports/recordings/{recorded.shell}/screens")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    items = [json.loads(line) for line in response.text.splitlines()]
    assert items[0] == {"size": [80, 24]}
    assert items[-1] == {"end": SHELL_LENGTH, "truncated": False}
    lines = {item["line"]: "".join(run[0] for run in item["runs"]) for item in items if "line" in item}
    frames = [item for item in items if "at" in item]
    assert [lines[n] for n in frames[-1]["rows"][:3]] == ["ipconfig", "IPv4 Address. . . : 10.0.0.7", "C:\\> exit"]
    assert admin.get(f"/login/reports/recordings/{recorded.screen}/screens").status_code == 404


# --- who may watch ---------------------------------------------------------------------


def test_nobody_gets_a_recording_the_reporting_api_would_not_give_them(
    appliance: RunningAppliance, personas: Personas, recorded: Recorded
) -> None:
    paths = [
        f"/login/reports/recordings/{recorded.screen}",
        f"/login/reports/recordings/{recorded.shell}",
        f"/login/reports/recordings/{recorded.shell}/screens",
    ]
    with signed_in(appliance, "rep_a", personas.rep_a.password) as alice:
        for path in paths:  # perm_view_reports none: no reports at all
            assert alice.get(path).status_code == 403, path

        # Her own sessions' reports, but not recordings: she learns they exist, not more.
        appliance.cli("user", "set", "rep_a", "--view-reports", "user_sessions", "--no-view-recordings")
        page = alice.get(f"/login/reports/sessions/{recorded.lsid}").text
        recordings = section(page)
        assert "This session has 3 recordings: Screen, Presentation, Command shell 0." in recordings
        assert "May view session recordings" in recordings
        assert "/login/reports/recordings/" not in page
        for path in paths:
            response = alice.get(path, headers={"Range": "bytes=0-3"})
            assert response.status_code == 403, path
            assert "May view session recordings" in response.text
            assert recorded.webm[:4] not in response.content

        # With the permission, her own session's recordings play.
        appliance.cli("user", "set", "rep_a", "--view-recordings")
        assert alice.get(paths[0]).content == recorded.webm

    # Bob may view recordings, but only of his own sessions: this one is not found.
    appliance.cli("user", "set", "rep_b", "--view-reports", "user_sessions", "--view-recordings")
    with signed_in(appliance, "rep_b", personas.rep_b.password) as bob:
        assert bob.get(f"/login/reports/sessions/{recorded.lsid}").status_code == 404
        for path in paths:
            response = bob.get(path, headers={"Range": "bytes=0-3"})
            assert response.status_code == 404, path
            assert recorded.webm[:4] not in response.content

    with appliance.client() as visitor:  # signed out
        for path in paths:
            response = visitor.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path


# --- in the browser ----------------------------------------------------------------------


def terminal_text(page: Page, recording: int) -> str:
    text: str = page.locator(f"#recording-{recording} .terminal").inner_text()
    return text


@pytest.mark.browser
def test_recordings_play_in_the_session_page(
    browser: Browser, appliance: RunningAppliance, recorded: Recorded, screenshots: Path
) -> None:
    context = new_context(browser)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(  # a refused script, style or fetch (the page's CSP) says so here
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    responses: list[tuple[str, int]] = []
    page.on("response", lambda response: responses.append((response.url.split("/", 3)[3], response.status)))
    base = site_url(appliance)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/login/status$"))
    page.goto(f"{base}/login/reports/sessions/{recorded.lsid}")
    expect(page.locator("#recordings tbody tr")).to_have_count(3)

    # The screen recording: its length is found, and it plays.
    video = page.locator(f"#recording-{recorded.screen} video")
    video.scroll_into_view_if_needed()
    page.wait_for_function(
        """(v) => v.readyState >= 1 && Number.isFinite(v.duration) && v.duration > 1
              && !v.seeking && v.currentTime === 0""",
        arg=video.element_handle(),
    )
    duration = video.evaluate("(v) => v.duration")
    assert 1.0 < duration < 2.5
    assert video.evaluate("(v) => [v.videoWidth, v.videoHeight]") == [160, 120]  # the recorded canvas
    video.evaluate("(v) => { v.muted = true; return v.play(); }")
    page.wait_for_function("(v) => v.currentTime > 0.4 && v.readyState >= 2", arg=video.element_handle())
    assert video.evaluate("(v) => v.error") is None
    assert (f"login/reports/recordings/{recorded.screen}", 206) in responses  # the browser asked for ranges
    page.screenshot(path=str(screenshots / "recordings-screen.png"), full_page=True)

    # The command shell: played fast to the end, then sought back to before the screen was cleared.
    player = page.locator(f"#recording-{recorded.shell}")
    player.scroll_into_view_if_needed()
    player.locator(".speed").select_option("8")
    player.locator("button.play").click()
    terminal = player.locator(".terminal")
    expect(terminal).to_contain_text("IPv4 Address. . . : 10.0.0.7")
    expect(player.locator("button.play")).to_have_text("Play")  # it stopped at the end
    expect(player.locator(".time")).to_have_text("0:02.0 / 0:02.0")
    end = terminal_text(page, recorded.shell)
    assert end.splitlines()[:3] == ["ipconfig", "IPv4 Address. . . : 10.0.0.7", "C:\\> exit"]
    assert "readme.txt" not in end
    assert player.locator(".terminal .bold").first.inner_text() == "IPv4 Address. . . : 10.0.0.7"
    page.screenshot(path=str(screenshots / "recordings-shell-end.png"), full_page=True)

    player.locator(".position").fill("1.2")
    expect(terminal).to_contain_text("readme.txt  notes.md")
    sought = terminal_text(page, recorded.shell)
    assert sought.splitlines()[:4] == ["C:\\> dir", " Volume in drive C", "readme.txt  notes.md", "C:\\>"]
    assert "ipconfig" not in sought
    assert player.locator(".terminal .fg-green").inner_text() == "readme.txt"
    expect(player.locator(".time")).to_have_text("0:01.2 / 0:02.0")
    player.screenshot(path=str(screenshots / "recordings-shell-sought.png"))

    assert problems == []
    assert [(url, status) for url, status in responses if status >= 400 and url != "favicon.ico"] == []
    context.close()
