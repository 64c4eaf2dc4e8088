"""`lifeline-client jump ...` without an appliance: its help documents every command, each
mistake is one clear line with exit status 1, and the service files it generates (systemd,
launchd, Windows) run this very client for the installation's folder; the systemd unit passes
`systemd-analyze verify` where that exists."""

from __future__ import annotations

import json
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lifeline_client.jump import service

from tests.client.scripted import CLIENT, make_certificate


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLIENT), *args], capture_output=True, text=True, timeout=60, check=False)


def test_help_documents_every_jump_command() -> None:
    top = run("--help")
    assert top.returncode == 0 and "jump install|run|uninstall" in top.stdout
    jump = run("jump", "--help")
    assert jump.returncode == 0
    for words in (
        "install URL --key KEY --dir DIR",
        "--ca FILE",
        "--name NAME",
        "--service",
        "run --dir DIR",
        "uninstall --dir DIR",
        "LIFELINE_CLIENT_SERVICE_DIR",
    ):
        assert words in jump.stdout, words
    for command in ("install", "run", "uninstall"):
        assert run("jump", command, "--help").returncode == 0


def test_mistakes_are_one_line_and_exit_1(tmp_path: Path) -> None:
    certificate = make_certificate(tmp_path)
    installed = tmp_path / "installed"
    installed.mkdir()
    (installed / "jump.json").write_text("{}")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    cases: list[tuple[tuple[str, ...], str]] = [
        (("jump", "install", "https://h", "--key", "k", "--dir", str(tmp_path / "a")), "give it with --ca FILE"),
        (
            ("jump", "install", "http://h", "--key", "k", "--dir", str(tmp_path / "a"), "--ca", str(certificate.cert)),
            "must start with https://",
        ),
        (
            ("jump", "install", "https://h", "--key", "k", "--dir", str(installed), "--ca", str(certificate.cert)),
            "is installed in",
        ),
        (
            (
                "jump",
                "install",
                "https://127.0.0.1:9",
                "--key",
                "k",
                "--dir",
                str(tmp_path / "b"),
                "--ca",
                str(certificate.cert),
            ),
            "cannot reach https://127.0.0.1:9",
        ),
        (
            ("jump", "install", "https://h", "--key", "k", "--dir", str(tmp_path / "c"), "--ca", "/no/such.pem"),
            "--pin /no/such.pem",
        ),
        (("jump", "run", "--dir", str(tmp_path / "none")), "no Jump Client is installed in"),
        (("jump", "uninstall", "--dir", str(tmp_path / "none")), "no Jump Client is installed in"),
        (("jump", "install", "https://h", "--dir", str(tmp_path / "d")), "the following arguments are required: --key"),
    ]
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    cases.append(
        (
            ("jump", "install", "https://h", "--key", "k", "--dir", str(a_file), "--ca", str(certificate.cert)),
            "cannot make",
        )
    )
    if not _is_root():
        cases.append(
            (
                (
                    "jump",
                    "install",
                    "https://h",
                    "--key",
                    "k",
                    "--dir",
                    str(locked / "x"),
                    "--ca",
                    str(certificate.cert),
                ),
                "cannot make",
            )
        )
    for args, said in cases:
        done = run(*args)
        assert done.returncode == 1, (args, done.stderr)
        assert said in done.stderr, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    # A failed install leaves no state behind (and never a key).
    assert not (tmp_path / "b" / "key.pem").exists() and not (tmp_path / "b" / "appliance.pem").exists()


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def _fake_installation(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jump.json").write_text(
        json.dumps({"origin": "https://h", "id": 1, "name": "n", "mode": "jump_client", "version": "0"})
    )


def test_systemd_unit_runs_this_client_for_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    units = tmp_path / "units"
    monkeypatch.setenv(service.ENV_DIR, str(units))
    folder = tmp_path / "my jump"  # a space: quoted in ExecStart
    _fake_installation(folder)
    for kind, wanted in (("systemd-user", "default.target"), ("systemd-system", "multi-user.target")):
        record, said = service.install(folder, kind)
        unit = Path(record.files[0])
        text = unit.read_text()
        assert unit.parent == units and unit.name == f"{service.service_name(folder)}.service"
        assert f'ExecStart={sys.executable} -m lifeline_client jump run --dir "{folder.resolve()}"' in text
        assert f"WantedBy={wanted}" in text and "Restart=on-failure" in text
        assert "not started" in said and not record.managed
        if shutil.which("systemd-analyze"):
            verified = subprocess.run(
                ["systemd-analyze", "verify", "--man=no", str(unit)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert verified.returncode == 0, verified.stderr
        assert "Removed the service" in service.remove(folder)
        assert not unit.exists() and not (folder / service.SERVICE).exists()


def test_launchd_and_windows_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(service.ENV_DIR, str(tmp_path / "out"))
    folder = tmp_path / "jump"
    _fake_installation(folder)
    record, _ = service.install(folder, "launchd-daemon")
    plist = plistlib.loads(Path(record.files[0]).read_bytes())
    assert plist["Label"] == f"com.lifeline.{service.service_name(folder)}"
    assert plist["ProgramArguments"] == [
        sys.executable,
        "-m",
        "lifeline_client",
        "jump",
        "run",
        "--dir",
        str(folder.resolve()),
    ]
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] == {"SuccessfulExit": False}
    service.remove(folder)
    record, _ = service.install(folder, "windows")
    script = Path(record.files[0]).read_text()
    name = service.service_name(folder)
    assert f"sc.exe create {name} binPath= " in script and "start= auto" in script and f"sc.exe start {name}" in script
    assert "jump run --dir" in script
    service.remove(folder)
    assert not Path(record.files[0]).exists()


def test_an_upgrade_is_taken_only_from_the_same_appliance() -> None:
    from lifeline_client.errors import ClientError
    from lifeline_client.jump.upgrade import same_site_path
    from lifeline_client.start import Site

    site = Site("127.0.0.1", 8443)
    assert same_site_path(site, "/download/client/lifeline-client-0.2.0-linux-x86_64.pyz").startswith("/download/")
    assert same_site_path(site, "https://127.0.0.1:8443/download/client/x.pyz") == "/download/client/x.pyz"
    for elsewhere in ("https://evil.example/x.pyz", "http://127.0.0.1:8443/x.pyz", "download/x.pyz"):
        with pytest.raises(ClientError):
            same_site_path(site, elsewhere)
