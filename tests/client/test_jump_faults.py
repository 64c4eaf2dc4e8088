"""The Jump Client's own behaviour, as its own process (`lifeline-client jump run`), against
the scripted appliance of scripted_jump.py: a signed hello, only the statistics asked, back
after a drop within its jittered wait, a Jump served through the session client with the
group's capabilities allowed and anything else refused (nobody is at the computer), removed
(4403 or `uninstall`) it uninstalls itself and exits 0, a refused hello (4400) keeps it
trying, and an upgrade from a zipapp replaces the file and starts it again."""

from __future__ import annotations

import base64
import os
import pty
import queue
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest
from lifeline_client.jump.run import MAX_WAIT, full_jitter
from lifeline_protocol import client as wire
from lifeline_protocol.common import Who
from lifeline_protocol.jump import MAX_THUMBNAIL, Started, StartSession, Statistics, Uninstall, Upgrade, Welcome

from tests.client.scripted import CLIENT, Certificate
from tests.client.scripted_jump import ScriptedJump, appliance, certificate, finish, install, jump_run, stop
from tests.support.xvfb import Display, xvfb

__all__ = ["appliance", "certificate", "xvfb"]  # the fixtures, used by name below

pytestmark = pytest.mark.slow


def test_full_jitter_stays_within_its_cap() -> None:
    for attempt in range(30):
        cap = min(MAX_WAIT, 2.0**attempt)
        waits = [full_jitter(attempt) for _ in range(200)]
        assert all(0 <= wait <= cap for wait in waits)
    assert max(full_jitter(20) for _ in range(200)) > MAX_WAIT / 3  # it does reach far once at the cap


def test_signed_hello_only_the_statistics_asked_and_back_after_a_drop(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    appliance.jump_welcome = Welcome(
        name="kiosk", statistics=["cpu", "uptime", "disk", "console_user", "thumbnail"], interval=1.0, version=1
    )
    process = jump_run(folder)
    try:
        hello = appliance.jump_hello()  # the scripted appliance checked its signature
        assert hello.id == 7 and hello.mode == "jump_client" and hello.computer.hostname
        sent = appliance.jump_next(Statistics, timeout=30)
        assert sent.cpu is not None and 0 <= sent.cpu <= 100
        assert sent.uptime is not None and sent.uptime > 0
        assert sent.disk is not None and 0 < sent.disk <= 100
        assert sent.console_user is not None
        assert sent.thumbnail is None  # no display here: skipped quietly
        # Asked for nothing: nothing is sent.
        appliance.jump_welcome = Welcome(name="kiosk", statistics=["uptime"], interval=1.0, version=1)
        dropped = time.monotonic()
        appliance.jump_drop(1012)
        assert appliance.jump_hello(timeout=10).id == 7
        back = time.monotonic() - dropped
        assert back < 5, back  # the first try after a welcome waits at most 1 s
        only = appliance.jump_next(Statistics, timeout=30)
        assert only.uptime is not None and only.cpu is None and only.disk is None and only.console_user is None
    finally:
        stop(process)


def test_a_thumbnail_of_the_screen_when_there_is_a_display(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path, xvfb: Display
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    appliance.jump_welcome = Welcome(name="kiosk", statistics=["thumbnail"], interval=1.0, version=1)
    process = jump_run(folder, env=xvfb.env())
    try:
        appliance.jump_hello()
        sent = appliance.jump_next(Statistics, timeout=30)
    finally:
        stop(process)
    assert sent.thumbnail is not None and sent.thumbnail.startswith("data:image/jpeg;base64,")
    picture = base64.b64decode(sent.thumbnail.split(",", 1)[1])
    assert picture[:2] == b"\xff\xd8"  # a JPEG
    frame = picture.index(b"\xff\xc0")  # its size, in the start-of-frame segment
    height, width = int.from_bytes(picture[frame + 5 : frame + 7]), int.from_bytes(picture[frame + 7 : frame + 9])
    assert width == 200 and height == 124  # Xvfb's 1280 x 800, scaled down (even sizes)
    assert len(sent.thumbnail) <= MAX_THUMBNAIL and sent.cpu is None  # only what was asked
    print(f"\nthumbnail: {len(picture)} bytes of JPEG, {len(sent.thumbnail)} characters")


def test_a_jump_opens_the_session_with_the_group_allowed_and_refuses_the_rest(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    process = jump_run(folder)
    try:
        appliance.jump_hello()
        appliance.jump_send(
            StartSession(request="r1", lsid="a" * 32, token="token-1", allowed=["system_info", "shell"], rep="Alice")
        )
        started = appliance.jump_next(Started)
        assert started.request == "r1" and started.error == ""
        hello = appliance.hello()  # the session's own /ws/client socket
        assert hello.token == "token-1" and sorted(hello.allowed) == ["shell", "system_info"]
        assert hello.flag is True  # allowed in advance by the group's rule, not answered by a person
        appliance.send(wire.Ask(capability="files", rep=Who(type="representative", gsnumber=1, name="Alice")))
        refused = appliance.next(wire.Consent)
        assert refused.capability == "files" and refused.allowed is False
        # The session ends; the Jump Client stays.
        appliance.drop(4410)
        time.sleep(1)
        assert process.poll() is None
    finally:
        err = stop(process)
    assert "nobody at this computer can allow it" in err
    assert "token-1" not in err


def test_someone_at_the_terminal_of_jump_run_is_asked(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen(
        [str(CLIENT), "jump", "run", "--dir", str(folder)],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    os.close(terminal)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    try:
        appliance.jump_hello()
        appliance.jump_send(StartSession(request="r3", lsid="c" * 32, token="token-3", allowed=[], rep="Alice"))
        assert appliance.jump_next(Started).error == ""
        appliance.hello()
        appliance.send(wire.Ask(capability="shell", rep=Who(type="representative", gsnumber=1, name="Alice")))
        while "asks to open a command shell on this computer. Allow? [y/N]" not in lines.get(timeout=20):
            pass
        os.write(controller, b"y\n")
        allowed = appliance.next(wire.Consent)
        assert allowed.capability == "shell" and allowed.allowed is True
    finally:
        stop(process)
        os.close(controller)


def test_a_jump_to_a_session_that_is_over_answers_why(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    appliance.refuse = 4410  # the session's socket is closed at once: the session is over
    process = jump_run(folder)
    try:
        appliance.jump_hello()
        appliance.jump_send(StartSession(request="r2", lsid="b" * 32, token="token-2", allowed=[], rep="Alice"))
        started = appliance.jump_next(Started)
        assert started.request == "r2"
        assert started.error == "the session's connection ended at once: The support session is over."
        assert process.poll() is None
    finally:
        stop(process)


@pytest.mark.parametrize("how", ["close 4403", "uninstall message"])
def test_removed_it_uninstalls_itself_and_exits_0(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path, how: str
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    if how == "close 4403":
        appliance.jump_refuse = 4403
    process = jump_run(folder)
    if how == "uninstall message":
        appliance.jump_hello()
        time.sleep(0.5)  # welcomed
        appliance.jump_send(Uninstall(reason="deleted by Admin"))
    code, out, err = finish(process)
    assert code == 0, err
    assert "uninstalled itself" in out
    if how == "uninstall message":
        assert "deleted by Admin" in out
    assert not (folder / "jump.json").exists() and not (folder / "key.pem").exists()


@pytest.mark.parametrize("code", [4400, 4409])
def test_a_refused_or_replaced_hello_keeps_it_trying_slowly(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path, code: int
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    appliance.jump_refuse = code
    process = jump_run(folder)
    try:
        appliance.jump_hello()
        with pytest.raises(queue.Empty):
            appliance.jump_hello(timeout=5)  # no quick retry: minutes later
        assert process.poll() is None
        assert (folder / "jump.json").exists()
    finally:
        err = stop(process)
    assert ("refused this Jump Client's hello" if code == 4400 else "another process of this installation") in err


ZIPAPP = Path(__file__).resolve().parents[2] / "build" / "client" / "lifeline-client-0.1.0-linux-x86_64.pyz"


def _zipapp_has_jump() -> bool:
    if not ZIPAPP.exists() or os.uname().machine != "x86_64":
        return False
    with zipfile.ZipFile(ZIPAPP) as archive:
        return "site-packages/lifeline_client/jump/cli.py" in archive.namelist()


@pytest.mark.skipif(not _zipapp_has_jump(), reason="needs build/client's zipapp, built with the Jump Client")
def test_an_upgrade_replaces_the_zipapp_and_starts_it_again(
    appliance: ScriptedJump, certificate: Certificate, tmp_path: Path
) -> None:
    folder = tmp_path / "jump"
    appliance.public_keys[7] = install(folder, certificate, appliance.port)
    running = tmp_path / "bin" / "lifeline-client.pyz"
    running.parent.mkdir()
    running.write_bytes(ZIPAPP.read_bytes())
    newer = tmp_path / "newer.pyz"
    newer.write_bytes(ZIPAPP.read_bytes())
    with zipfile.ZipFile(newer, "a") as archive:
        archive.writestr("UPGRADED", "0.2.0")  # a different file, still a working zipapp
    data = newer.read_bytes()
    sha = appliance.serve("/client/lifeline-client-0.2.0-linux-x86_64.pyz", data)
    appliance.jump_welcome = Welcome(
        name="kiosk",
        statistics=[],
        interval=60.0,
        version=1,
        upgrade=Upgrade(
            version="0.2.0", url="/client/lifeline-client-0.2.0-linux-x86_64.pyz", sha256=sha, size=len(data)
        ),
    )
    process = jump_run(folder, str(CLIENT.parent / "python"), str(running))
    try:
        appliance.jump_hello(timeout=60)
        appliance.jump_welcome = Welcome(name="kiosk", statistics=[], interval=60.0, version=1)  # upgraded now
        appliance.jump_hello(timeout=60)  # the new program, started again in the same process
        assert running.read_bytes() == data
        assert process.poll() is None
    finally:
        err = stop(process)
    assert "upgraded" in err
