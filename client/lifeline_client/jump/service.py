"""Running a Jump Client as a service: a systemd unit (the system's when root, else the
user's), a launchd plist on macOS, a Windows service made with `sc.exe`. The files come from
the platform and the installation's folder; the service manager is called only when it is
there and the files went to its own folder (LIFELINE_CLIENT_SERVICE_DIR sends them elsewhere,
for a test or a packager, and then nothing is called)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from lifeline_client.errors import ClientError
from lifeline_client.jump import state

log = logging.getLogger(__name__)

SERVICE = "service.json"  # in the installation's folder: what was installed, to remove it
ENV_DIR = "LIFELINE_CLIENT_SERVICE_DIR"
TOOL_TIMEOUT = 60  # seconds for systemctl, launchctl or sc.exe


@dataclass(frozen=True)
class Service:
    kind: str  # "systemd-system", "systemd-user", "launchd-daemon", "launchd-agent", "windows"
    name: str  # the unit, label or Windows service name
    files: list[str]  # what was written (absolute paths)
    managed: bool  # written where the service manager looks (its tools are then called)


def service_name(folder: Path) -> str:
    """One per installation folder, so several can live side by side."""
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:10]
    return f"lifeline-jump-{digest}"


def command(folder: Path) -> list[str]:
    """How the service starts this very client: its zipapp, or its package's module."""
    program = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if program is not None and program.suffix == ".pyz" and program.is_file():
        return [sys.executable, str(program), "jump", "run", "--dir", str(folder.resolve())]
    return [sys.executable, "-m", "lifeline_client", "jump", "run", "--dir", str(folder.resolve())]


def platform_kind() -> str:
    if sys.platform == "win32":
        return "windows"
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if sys.platform == "darwin":
        return "launchd-daemon" if root else "launchd-agent"
    return "systemd-system" if root else "systemd-user"


def _default_dir(kind: str) -> Path:
    home = Path.home()
    return {
        "systemd-system": Path("/etc/systemd/system"),
        "systemd-user": Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "systemd" / "user",
        "launchd-daemon": Path("/Library/LaunchDaemons"),
        "launchd-agent": home / "Library" / "LaunchAgents",
        "windows": Path(os.environ.get("PROGRAMDATA", "C:\\ProgramData")) / "Lifeline",
    }[kind]


def _systemd_quote(word: str) -> str:
    if word and all(c.isalnum() or c in "/._-:=+," for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def systemd_unit(folder: Path, kind: str) -> str:
    exec_start = " ".join(_systemd_quote(word) for word in command(folder))
    wanted = "multi-user.target" if kind == "systemd-system" else "default.target"
    return f"""\
[Unit]
Description=Lifeline Jump Client ({folder.resolve()})
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart={exec_start}
WorkingDirectory={str(folder.resolve()).replace("%", "%%")}
# Exit status 0 means uninstalled (revoked): stay stopped. Anything else: start again.
Restart=on-failure
RestartSec=10
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy={wanted}
"""


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def launchd_plist(folder: Path, name: str) -> str:
    arguments = "\n".join(f"        <string>{_xml(word)}</string>" for word in command(folder))
    log_file = _xml(str(folder.resolve() / state.LOG))
    return f"""\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>com.lifeline.{name}</string>
    <key>ProgramArguments</key>
    <array>
{arguments}
    </array>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <dict>
        <key>SuccessfulExit</key>
        <false/>
    </dict>
    <key>ThrottleInterval</key>
    <integer>10</integer>
    <key>StandardErrorPath</key>
    <string>{log_file}</string>
</dict>
</plist>
"""


def windows_commands(folder: Path, name: str) -> list[list[str]]:
    """sc.exe's words: `binPath= ` and its value are two arguments, as sc.exe wants them."""
    bin_path = subprocess.list2cmdline(command(folder))
    return [
        ["sc.exe", "create", name, "binPath=", bin_path, "start=", "auto", "DisplayName=", "Lifeline Jump Client"],
        ["sc.exe", "failure", name, "reset=", "86400", "actions=", "restart/10000"],
        ["sc.exe", "start", name],
    ]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _run(*words: str) -> bool:
    if shutil.which(words[0]) is None:
        return False
    try:
        done = subprocess.run(  # noqa: S603 (the service tools, our own words, no shell)
            words, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("%s: %s", " ".join(words), error)
        return False
    if done.returncode != 0:
        log.warning("%s failed: %s", " ".join(words), (done.stderr or done.stdout).strip()[:300])
    return done.returncode == 0


def install(folder: Path, kind: str | None = None) -> tuple[Service, str]:
    """Write the service's files, start it when they are where its manager looks; returns
    the record and a sentence for the person installing."""
    kind = kind or platform_kind()
    name = service_name(folder)
    chosen = os.environ.get(ENV_DIR)
    where = Path(chosen) if chosen else _default_dir(kind)
    managed = not chosen
    try:
        if kind.startswith("systemd"):
            path = where / f"{name}.service"
            _write(path, systemd_unit(folder, kind))
        elif kind.startswith("launchd"):
            path = where / f"com.lifeline.{name}.plist"
            _write(path, launchd_plist(folder, name))
        else:
            path = where / f"{name}.cmd"
            lines = [subprocess.list2cmdline(words) for words in windows_commands(folder, name)]
            _write(
                path,
                "@echo off\r\nrem Installs the Lifeline Jump Client as a Windows service.\r\n"
                + "\r\n".join(lines)
                + "\r\n",
            )
    except OSError as error:
        raise ClientError(f"cannot write the service file in {where}: {error.strerror or error}") from None
    service = Service(kind=kind, name=name, files=[str(path)], managed=managed)
    (folder / SERVICE).write_text(json.dumps(asdict(service), indent=2) + "\n", "utf-8")
    if not managed:
        return service, f"The service file is {path} (not started: {ENV_DIR} is set)."
    started = _start(service, path, folder)
    if started:
        return service, f"Installed and started the service {name} ({path})."
    return (
        service,
        f"Wrote the service file {path}; start it with your service manager (its tool was not found or failed).",
    )


def _start(service: Service, path: Path, folder: Path) -> bool:
    if service.kind.startswith("systemd"):
        user = ["--user"] if service.kind == "systemd-user" else []
        return _run("systemctl", *user, "daemon-reload") and _run(
            "systemctl", *user, "enable", "--now", f"{service.name}.service"
        )
    if service.kind.startswith("launchd"):
        return _run("launchctl", "load", "-w", str(path))
    return all(_run(*words) for words in windows_commands(folder, service.name))


def remove(folder: Path, *, itself: bool = False) -> str:
    """Stop and delete the installation's service (best effort); a sentence, or "" when
    there was none. `itself`: the service's own process removes it (and exits right after),
    so it is disabled, not stopped under its own feet."""
    record = folder / SERVICE
    try:
        raw = json.loads(record.read_text("utf-8"))
        service = Service(
            kind=str(raw["kind"]),
            name=str(raw["name"]),
            files=[str(f) for f in raw["files"]],
            managed=bool(raw["managed"]),
        )
    except FileNotFoundError:
        return ""
    except (OSError, ValueError, KeyError, TypeError):
        record.unlink(missing_ok=True)
        return f"{record} was unreadable: remove the service by hand if there is one."
    if service.managed:
        if service.kind.startswith("systemd"):
            user = ["--user"] if service.kind == "systemd-user" else []
            now = [] if itself else ["--now"]
            _run("systemctl", *user, "disable", *now, f"{service.name}.service")
        elif service.kind.startswith("launchd"):
            # Unloading stops the job: the service itself just exits 0 (KeepAlive lets it).
            for file in service.files if not itself else []:
                _run("launchctl", "unload", "-w", file)
        else:
            if not itself:
                _run("sc.exe", "stop", service.name)
            _run("sc.exe", "delete", service.name)
    for file in service.files:
        Path(file).unlink(missing_ok=True)
    if service.managed and service.kind.startswith("systemd"):
        _run("systemctl", *(["--user"] if service.kind == "systemd-user" else []), "daemon-reload")
    record.unlink(missing_ok=True)
    return f"Removed the service {service.name}."
