"""System information: the contract's categories as tables of text (InfoCategory), each
bounded in rows and cell length, gathered with psutil and, for services and installed
programs, the system's own tools (best effort: an empty table when they are missing)."""

from __future__ import annotations

import contextlib
import datetime
import getpass
import importlib
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec
import psutil
from lifeline_protocol.computer import (
    MAX_INFO_ROWS,
    MAX_TEXT,
    Computer,
    Field,
    InfoCategory,
)

SYSTEM: str = sys.platform  # as text: each system's branch is checked on every system
TOOL_TIMEOUT = 10.0  # seconds for systemctl, dpkg-query, sc ...
MAX_TOOL_OUTPUT = 8 * 1024 * 1024  # bytes read of such a tool's output
CPU_SAMPLE = 0.3  # seconds over which processes' CPU use is measured

Row = list[str]


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text[:MAX_TEXT]


def table(id: str, name: str, fields: Iterable[tuple[str, str]], rows: Iterable[Iterable[object]]) -> InfoCategory:
    """A category: every cell text, at most MAX_INFO_ROWS rows, each as wide as its fields."""
    columns = [Field(id=field_id, name=field_name) for field_id, field_name in fields]
    width = len(columns)
    kept: list[Row] = []
    for row in rows:
        if len(kept) >= MAX_INFO_ROWS:
            break
        cells = [cell(value) for value in row][:width]
        kept.append(cells + [""] * (width - len(cells)))
    return InfoCategory(id=id, name=name, fields=columns, rows=kept)


# --- who and where ------------------------------------------------------------------------


def os_name() -> str:
    if SYSTEM.startswith("linux"):
        try:
            return platform.freedesktop_os_release().get("PRETTY_NAME", "Linux")
        except OSError:
            return f"Linux {platform.release()}"
    if SYSTEM == "darwin":
        return f"macOS {platform.mac_ver()[0]}".strip()
    if SYSTEM == "win32":
        return f"Windows {platform.release()} ({platform.version()})"
    return f"{platform.system()} {platform.release()}".strip()


def platform_name() -> str:
    if SYSTEM.startswith("linux"):
        return "linux"
    return {"darwin": "mac", "win32": "windows"}.get(SYSTEM, "other")


def username() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return ""


def utc_offset() -> int:
    offset = datetime.datetime.now().astimezone().utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def computer(private_ip: str, version: str) -> Computer:
    """What the hello says about this machine."""
    return Computer(
        hostname=cell(socket.gethostname()),
        os=cell(os_name()),
        platform=platform_name(),  # type: ignore[arg-type]
        username=cell(username()),
        private_ip=private_ip[:64],
        timezone_offset=max(-14 * 3600, min(14 * 3600, utc_offset())),
        client_version=version,
    )


# --- the categories -----------------------------------------------------------------------


def megabytes(count: float) -> str:
    return f"{count / 2**20:,.0f} MB"


def gigabytes(count: float) -> str:
    return f"{count / 2**30:,.1f} GB"


def overview() -> InfoCategory:
    memory = psutil.virtual_memory()
    up = int(time.time() - psutil.boot_time())
    frequency = psutil.cpu_freq()
    cpu = platform.processor() or platform.machine()
    return table(
        "overview",
        "Overview",
        [
            ("hostname", "Host name"),
            ("username", "User"),
            ("os", "Operating system"),
            ("uptime", "Up for"),
            ("cpu", "Processor"),
            ("cpu_count", "Processors"),
            ("cpu_speed", "Speed"),
            ("memory_total", "Memory"),
            ("memory_available", "Memory available"),
        ],
        [
            [
                socket.gethostname(),
                username(),
                os_name(),
                str(datetime.timedelta(seconds=up)),
                cpu,
                psutil.cpu_count(),
                f"{frequency.current:,.0f} MHz" if frequency else "",
                megabytes(memory.total),
                megabytes(memory.available),
            ]
        ],
    )


def network() -> InfoCategory:
    stats = psutil.net_if_stats()
    rows: list[Row] = []
    for name, addresses in sorted(psutil.net_if_addrs().items()):
        ips = [a.address for a in addresses if a.family in (socket.AF_INET, socket.AF_INET6)]
        macs = [a.address for a in addresses if a.family == psutil.AF_LINK]
        stat = stats.get(name)
        rows.append(
            [
                name,
                ", ".join(ips),
                macs[0] if macs else "",
                ("up" if stat.isup else "down") if stat else "",
                f"{stat.speed} Mb/s" if stat and stat.speed else "",
            ]
        )
    return table(
        "network",
        "Network",
        [
            ("name", "Interface"),
            ("addresses", "Addresses"),
            ("mac", "MAC address"),
            ("up", "State"),
            ("speed", "Speed"),
        ],
        rows,
    )


def drives() -> InfoCategory:
    rows: list[Row] = []
    for part in psutil.disk_partitions(all=False):
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:
            continue
        rows.append([part.mountpoint, part.fstype, gigabytes(usage.total), gigabytes(usage.used), f"{usage.percent}%"])
    return table(
        "drives",
        "Drives",
        [("mount", "Drive"), ("type", "Type"), ("total", "Size"), ("used", "Used"), ("percent_used", "Used %")],
        rows,
    )


def processes() -> InfoCategory:
    attrs = ["pid", "name", "username", "memory_info", "create_time", "cmdline"]
    found = list(psutil.process_iter(attrs))
    for process in found:  # the first reading of CPU use starts the measurement
        with contextlib.suppress(psutil.Error):
            process.cpu_percent(None)
    time.sleep(CPU_SAMPLE)
    rows: list[Row] = []
    for process in found[:MAX_INFO_ROWS]:
        info = process.info
        try:
            cpu = f"{process.cpu_percent(None):.1f}"
        except psutil.Error:
            cpu = ""
        memory = info.get("memory_info")
        started = info.get("create_time")
        rows.append(
            [
                str(info.get("pid")),
                info.get("name") or "",
                info.get("username") or "",
                cpu,
                megabytes(memory.rss) if memory else "",
                datetime.datetime.fromtimestamp(started).isoformat(timespec="seconds") if started else "",
                " ".join(info.get("cmdline") or []),
            ]
        )
    return table(
        "processes",
        "Processes",
        [
            ("pid", "PID"),
            ("name", "Name"),
            ("user", "User"),
            ("cpu_percent", "CPU %"),
            ("memory", "Memory"),
            ("started", "Started"),
            ("command", "Command"),
        ],
        rows,
    )


def _tool(*command: str) -> str:
    """A system tool's output, or nothing when it is missing, fails or takes too long."""
    try:
        done = subprocess.run(  # noqa: S603 (fixed commands, no shell)
            command, capture_output=True, timeout=TOOL_TIMEOUT, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout[:MAX_TOOL_OUTPUT].decode("utf-8", errors="replace") if done.returncode == 0 else ""


def _systemd_services() -> list[Row]:
    out = _tool("systemctl", "list-units", "--type=service", "--all", "--no-legend", "--no-pager", "--plain")
    rows: list[Row] = []
    for line in out.splitlines():
        parts = line.split(None, 4)
        if len(parts) >= 4:
            rows.append([parts[0], f"{parts[2]} ({parts[3]})", parts[4] if len(parts) > 4 else ""])
    return rows


def _windows_services() -> list[Row]:
    rows: list[Row] = []
    current: dict[str, str] = {}
    for line in _tool("sc", "query", "state=", "all").splitlines():
        key, _, value = line.strip().partition(":")
        key = key.strip()
        if key == "SERVICE_NAME":
            if current:
                rows.append(
                    [current.get("SERVICE_NAME", ""), current.get("STATE", ""), current.get("DISPLAY_NAME", "")]
                )
            current = {}
        if key in ("SERVICE_NAME", "DISPLAY_NAME", "STATE"):
            current[key] = " ".join(value.split()[1:]) if key == "STATE" else value.strip()
    if current:
        rows.append([current.get("SERVICE_NAME", ""), current.get("STATE", ""), current.get("DISPLAY_NAME", "")])
    return rows


def _mac_services() -> list[Row]:
    rows: list[Row] = []
    for line in _tool("launchctl", "list").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 3:
            rows.append([parts[2], "running" if parts[0] != "-" else "stopped", ""])
    return rows


def services() -> InfoCategory:
    found = {"win32": _windows_services, "darwin": _mac_services}.get(SYSTEM, _systemd_services)()
    return table("services", "Services", [("name", "Name"), ("state", "State"), ("description", "Description")], found)


def _linux_programs() -> list[Row]:
    out = _tool("dpkg-query", "-W", "-f=${Package}\t${Version}\t${Architecture}\n")
    if not out:
        out = _tool("rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n")
    return [line.split("\t") for line in out.splitlines() if line.count("\t") == 2]


def _windows_programs() -> list[Row]:
    winreg: Any = importlib.import_module("winreg")  # Windows only

    rows: list[Row] = []
    for hive, key in (
        (winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
        (winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"),
        (winreg.HKEY_CURRENT_USER, r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
    ):
        try:
            with winreg.OpenKey(hive, key) as folder:
                for index in range(winreg.QueryInfoKey(folder)[0]):
                    with winreg.OpenKey(folder, winreg.EnumKey(folder, index)) as program:
                        values = []
                        for name in ("DisplayName", "DisplayVersion", "Publisher"):
                            try:
                                values.append(str(winreg.QueryValueEx(program, name)[0]))
                            except OSError:
                                values.append("")
                        if values[0]:
                            rows.append(values)
        except OSError:
            continue
    return rows


def _mac_programs() -> list[Row]:
    try:
        return [[app.stem, "", ""] for app in sorted(Path("/Applications").glob("*.app"))]
    except OSError:
        return []


def programs() -> InfoCategory:
    found = {"win32": _windows_programs, "darwin": _mac_programs}.get(SYSTEM, _linux_programs)()
    return table(
        "programs", "Programs", [("name", "Name"), ("version", "Version"), ("vendor", "Vendor or architecture")], found
    )


CATEGORIES: dict[str, Callable[[], InfoCategory]] = {
    "overview": overview,
    "network": network,
    "drives": drives,
    "processes": processes,
    "services": services,
    "programs": programs,
}


def gather(limit: int) -> list[InfoCategory]:
    """Every category (one that fails is an empty table), together encoded in at most
    `limit` bytes: the longest tables lose rows until they fit. Blocking: run in a thread."""
    found: list[InfoCategory] = []
    for id, collect in CATEGORIES.items():
        try:
            found.append(collect())
        except Exception:
            found.append(table(id, id.title(), [("error", "Error")], [["could not be read"]]))
    return fit(found, limit)


def fit(categories: list[InfoCategory], limit: int) -> list[InfoCategory]:
    encoder = msgspec.json.Encoder()
    while len(encoder.encode(categories)) > limit:
        longest = max(range(len(categories)), key=lambda i: len(categories[i].rows))
        rows = categories[longest].rows
        if not rows:
            break
        categories[longest] = msgspec.structs.replace(categories[longest], rows=rows[: len(rows) // 2])
    return categories


def end_process(pid: int) -> str | None:
    """Terminate, then kill after 3 s; None when done, else what went wrong."""
    try:
        process = psutil.Process(pid)
        process.terminate()
        try:
            process.wait(3)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(3)
    except psutil.NoSuchProcess:
        return f"No process {pid}"
    except psutil.AccessDenied:
        return f"Not allowed to end process {pid}"
    except psutil.TimeoutExpired:
        return f"Process {pid} did not end"
    return None
