"""The Jump Client as deployed: real `lifeline-client jump ...` processes in scratch folders
against the real appliance process. Installed with a key from `lifeline jump-installer add
--json` (an expired key refused in the appliance's words), `jump run` shows online with its
statistics, removing it in the appliance makes it uninstall itself and exit 0, `jump
uninstall` removes it on both sides, and after `kill -9` of the appliance every client comes
back within the connect rate."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from lifeline.db.base import utcnow
from lifeline.jump.models import JumpClient, JumpInstaller
from tests.client.scripted import CLIENT
from tests.support.appliance import RunningAppliance, eventually, running_appliance

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installer(appliance: RunningAppliance) -> dict[str, Any]:
    appliance.cli("jump-group", "add", "Kiosks", "--member", "admin")
    appliance.cli_settled("settings", "set", "jump_statistics_interval", "5")
    made: dict[str, Any] = appliance.cli_json("jump-installer", "add", "--group", "Kiosks", "--valid", "86400")
    return made


def jump(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLIENT), "jump", *args], capture_output=True, text=True, timeout=120, check=False, env=env
    )


def install(appliance: RunningAppliance, key: str, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return jump(
        "install", appliance.https, "--key", key, "--dir", str(folder), "--ca", str(appliance.cert_path), *extra
    )


def installed_id(folder: Path) -> int:
    return int(json.loads((folder / "jump.json").read_text())["id"])


def run(folder: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.Popen(
        [str(CLIENT), "jump", "run", "--dir", str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        process.terminate()
    try:
        return process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def row(appliance: RunningAppliance, jump_client_id: int) -> JumpClient:
    def read(session: Session) -> JumpClient:
        found = session.get(JumpClient, jump_client_id)
        assert found is not None
        session.expunge(found)
        return found

    return appliance.with_session(read)


def check(condition: bool) -> bool:
    assert condition
    return True


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        stop(process)


def test_install_run_statistics_and_removal(
    appliance: RunningAppliance, installer: dict[str, Any], tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    folder = tmp_path / "kiosk"
    done = install(appliance, installer["key"], folder, "--name", "Front desk")
    assert done.returncode == 0, done.stderr
    jump_id = installed_id(folder)
    assert f"Installed Jump Client {jump_id}" in done.stdout
    assert appliance.cli_json("jump", "list")[-1]["name"] == "Front desk"  # `--name` is how it is listed
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600
    assert (folder / "appliance.pem").read_bytes() == appliance.cert_path.read_bytes()
    state = json.loads((folder / "jump.json").read_text())
    assert state["origin"] == appliance.https and state["mode"] == "jump_client" and state["version"]
    private = (folder / "key.pem").read_text()
    assert "PRIVATE KEY" in private and private not in done.stdout + done.stderr
    again = install(appliance, installer["key"], folder)
    assert again.returncode == 1 and "is installed in" in again.stderr

    process = run(folder)
    processes.append(process)
    eventually(lambda: check(row(appliance, jump_id).connected_node is not None), timeout=30)
    listed = {item["id"]: item for item in appliance.cli_json("jump", "list")}
    assert listed[jump_id]["online"] is True and listed[jump_id]["group"] == "Kiosks"
    # The statistics the appliance asks by default arrive (sent every 5 s, written every 5 s).
    stats = eventually(lambda: _with_statistics(row(appliance, jump_id)), timeout=40)
    assert 0 <= (stats.cpu or 0) <= 100 and 0 < (stats.disk or 0) <= 100 and (stats.uptime or 0) > 0
    # At rest: its memory, and the CPU it takes over 10 s (two statistics in them).
    measured = psutil.Process(process.pid)
    before = measured.cpu_times()
    time.sleep(10)
    after = measured.cpu_times()
    busy = (after.user + after.system - before.user - before.system) / 10 * 100
    print(f"\njump run at rest: RSS {measured.memory_info().rss // 1024} KiB, CPU {busy:.2f} % of a core")
    assert busy < 5

    appliance.cli("jump", "remove", str(jump_id))
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "uninstalled itself" in out
    assert not (folder / "jump.json").exists() and not (folder / "key.pem").exists()


def _with_statistics(found: JumpClient) -> JumpClient:
    assert found.cpu is not None and found.uptime is not None and found.disk is not None
    return found


def test_an_expired_key_is_refused_in_the_appliance_words(appliance: RunningAppliance, tmp_path: Path) -> None:
    expired = appliance.cli_json("jump-installer", "add", "--group", "Kiosks", "--valid", "60")

    def expire(session: Session) -> None:
        session.execute(
            update(JumpInstaller)
            .where(JumpInstaller.id == expired["id"])
            .values(expires_at=utcnow() - timedelta(hours=1))
        )

    appliance.with_session(expire)
    folder = tmp_path / "late"
    done = install(appliance, expired["key"], folder)
    assert done.returncode == 1
    assert "the installer key has expired:" in done.stderr and "ask your administrator for a new one" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (folder / "key.pem").exists() and not (folder / "jump.json").exists()
    unknown = install(appliance, "not-a-key", tmp_path / "unknown")
    assert unknown.returncode == 1 and "This installer key is not known here." in unknown.stderr


def test_uninstall_removes_it_on_both_sides(
    appliance: RunningAppliance, installer: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "leaving"
    env = {**os.environ, "LIFELINE_CLIENT_SERVICE_DIR": str(tmp_path / "units")}
    done = jump(
        "install", appliance.https, "--key", installer["key"], "--dir", str(folder),
        "--ca", str(appliance.cert_path), "--service", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    jump_id = installed_id(folder)
    units = list((tmp_path / "units").iterdir())
    assert len(units) == 1 and f"--dir {folder}" in units[0].read_text()
    gone = jump("uninstall", "--dir", str(folder), env=env)
    assert gone.returncode == 0, gone.stderr
    assert f"Removed Jump Client {jump_id} from {appliance.https}." in gone.stdout
    assert not units[0].exists() and not folder.exists()
    assert jump_id not in {item["id"] for item in appliance.cli_json("jump", "list")}
    assert row(appliance, jump_id).revoked_at is not None


def test_uninstall_without_the_appliance_still_removes_it_here(
    appliance: RunningAppliance, installer: dict[str, Any], tmp_path: Path
) -> None:
    folder = tmp_path / "offline"
    assert install(appliance, installer["key"], folder).returncode == 0
    state = json.loads((folder / "jump.json").read_text())
    state["origin"] = "https://127.0.0.1:9"  # nothing listens there
    (folder / "jump.json").write_text(json.dumps(state))
    gone = jump("uninstall", "--dir", str(folder))
    assert gone.returncode == 0, gone.stderr
    assert "Could not tell the appliance" in gone.stdout and "removed here only" in gone.stdout
    assert not folder.exists()


CLIENTS = 6
RATE = 2  # new Jump sockets a second the appliance takes


def test_after_kill_9_every_client_comes_back_within_the_rate(
    appliance: RunningAppliance, installer: dict[str, Any], tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    ids = []
    for number in range(CLIENTS):
        folder = tmp_path / f"client-{number}"
        assert install(appliance, installer["key"], folder).returncode == 0
        ids.append(installed_id(folder))
        processes.append(run(folder))
    appliance.cli_settled("settings", "set", "jump_connect_rate", str(RATE))
    try:
        eventually(lambda: check(all(row(appliance, i).connected_node is not None for i in ids)), timeout=60)
        assert appliance.process is not None
        appliance.process.send_signal(signal.SIGKILL)
        appliance.process.wait()
        killed = datetime.now(UTC)
        time.sleep(2)
        assert appliance._start_once(), "the appliance could not take its ports again"
        restarted = time.monotonic()

        def back() -> list[datetime]:
            rows = [row(appliance, i) for i in ids]
            assert all(r.connected_node is not None and r.connected_at and r.connected_at > killed for r in rows)
            return [r.connected_at for r in rows if r.connected_at]

        times = eventually(back, timeout=180, interval=0.5)
        took = time.monotonic() - restarted
        print(f"\n{CLIENTS} Jump Clients back {took:.1f} s after the appliance restarted (rate {RATE}/s)")
        ordered = sorted(times)
        # Never more than RATE in any second (a second's edge may hold RATE from each side).
        for index, at in enumerate(ordered):
            within = [t for t in ordered[index:] if (t - at).total_seconds() < 1.0]
            assert len(within) <= 2 * RATE, ordered
        assert all(process.poll() is None for process in processes)
    finally:
        appliance.cli_settled("settings", "set", "jump_connect_rate", "200")


ZIPAPP = Path(__file__).resolve().parents[2] / "build" / "client" / "lifeline-client-0.1.0-linux-x86_64.pyz"


def _zipapp_has_jump() -> bool:
    if not ZIPAPP.exists() or os.uname().machine != "x86_64":
        return False
    with zipfile.ZipFile(ZIPAPP) as archive:
        return "site-packages/lifeline_client/jump/cli.py" in archive.namelist()


@pytest.mark.skipif(not _zipapp_has_jump(), reason="needs build/client's zipapp, built with the Jump Client")
def test_a_zipapp_upgrades_itself_from_an_appliance_serving_a_newer_build(tmp_path: Path) -> None:
    """An appliance whose client folder holds a "newer" build (0.2.0: the same program with one
    more file, so it still runs): the Jump Client running from the 0.1.0 zipapp is offered it
    in its welcome, fetches it, checks it, replaces itself and starts again in place."""
    newer_dir = tmp_path / "client-build"
    newer_dir.mkdir()
    newer = newer_dir / "lifeline-client-0.2.0-linux-x86_64.pyz"
    shutil.copyfile(ZIPAPP, newer)
    with zipfile.ZipFile(newer, "a") as archive:
        archive.writestr("UPGRADED", "0.2.0")
    data = newer.read_bytes()
    entry = {"kind": "zipapp", "platform": "linux-x86_64", "pythons": ["3.11", "3.12", "3.13", "3.14"]}
    manifest = {
        "version": "0.2.0",
        "artifacts": {newer.name: {**entry, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}},
    }
    (newer_dir / "manifest.json").write_text(json.dumps(manifest))
    with running_appliance(tmp_path / "appliance", env={"LIFELINE_CLIENT_DIR": str(newer_dir)}) as appliance:
        appliance.cli("jump-group", "add", "Upgraded", "--member", "admin")
        made = appliance.cli_json("jump-installer", "add", "--group", "Upgraded")
        running = tmp_path / "bin" / "lifeline-client.pyz"
        running.parent.mkdir()
        shutil.copyfile(ZIPAPP, running)
        python = str(CLIENT.parent / "python")
        folder = tmp_path / "jump"
        done = subprocess.run(
            [
                python,
                str(running),
                "jump",
                "install",
                appliance.https,
                "--key",
                made["key"],
                "--dir",
                str(folder),
                "--ca",
                str(appliance.cert_path),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        jump_id = installed_id(folder)
        process = subprocess.Popen(
            [python, str(running), "jump", "run", "--dir", str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            eventually(lambda: check(running.read_bytes() == data), timeout=120, interval=0.5)
            # Started again in place (the same process), connected again, and offered the
            # upgrade again on that connection: the build running is not fetched again.
            time.sleep(4)
            eventually(lambda: check(row(appliance, jump_id).connected_node is not None), timeout=60, interval=0.5)
            assert process.poll() is None
        finally:
            _, err = stop(process)
        assert "from 0.1.0 to 0.2.0: starting again" in err, err
        assert "connected to" in err.split("starting again", 1)[1], err
        with zipfile.ZipFile(ZIPAPP) as archive:
            checks = b"is the program running already" in archive.read("site-packages/lifeline_client/jump/upgrade.py")
        if checks:  # once: an offer of the build running is not fetched again
            assert err.count("starting again") == 1, err
