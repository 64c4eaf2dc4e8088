"""The customer client as a download: small launchers for scripts and downloaders that ask
/api/start_session for a file. Each fetches the Lifeline client from the appliance it came
from (trusting only that appliance's certificate, which it carries), checks the file's
SHA-256, and runs `lifeline-client attach <chat URL> --pin <certificate>`; the client opens
the chat page in the browser. Where the client cannot run (no Python 3.11+, no build for
the computer, the fetch failed) the launcher opens the chat page itself, as it did before
there was a client; and with no client built at all, that is all a launcher does.

Each launcher holds one URL and nothing else that varies between sessions (the build and
the certificate are the appliance's), so its size depends only on the URL's length (and a
HEAD can announce it without starting a session).
"""

from __future__ import annotations

import enum
import html
import io
import plistlib
import re
import zipfile
from dataclasses import dataclass

from lifeline.api.start import client_launch as scripts
from lifeline.appliance.client_downloads import ClientBuild

MAC_APP = "Double-Click To Start Support Session.app"
# The bundle's executable, named as real appliances name it: session-start scripts written
# for them unzip the app and exec this path.
MAC_EXECUTABLE = "mount_dmg_and_exec_bundle.sh"
# Fixed, so that the same URL always makes the same bytes.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
UNIX = 3  # "made by" a Unix system: unzip and Archive Utility then honour the modes below

# Only what our own URLs hold (a validated host name, a port, a URL-safe token): nothing a
# shell, cmd.exe or HTML would read as syntax.
SAFE_URL = re.compile(r"https://[A-Za-z0-9.:\[\]-]+/chat/[A-Za-z0-9_-]+\Z")


# Phones, tablets and Chromebooks (`CrOS` as a word: "Microsoft" holds the letters too).
HANDHELD = re.compile(r"android|iphone|ipad|ipod|\bcros\b")


class Platform(enum.Enum):
    WINDOWS = "windows"
    MAC = "mac"
    LINUX = "linux"
    ANY = "any"  # an HTML page that any system opens in its browser


def platform_from_param(value: str) -> Platform | None:
    """The `platform` parameter: the guide's `winNT-32` and `winNT-64` (any `win…`), and
    `mac…`/`osx…` and `linux…` for the others; anything else names no platform."""
    value = value.strip().lower()
    if value.startswith("win"):
        return Platform.WINDOWS
    if value.startswith(("mac", "osx", "darwin")):
        return Platform.MAC
    if value.startswith("linux"):
        return Platform.LINUX
    return None


def platform_from_user_agent(user_agent: str) -> Platform:
    """The system a User-Agent names; phones, tablets and agents that name none get HTML."""
    agent = user_agent.lower()
    if HANDHELD.search(agent):
        return Platform.ANY
    if any(word in agent for word in ("windows", "win64", "win32", "winhttp")):
        return Platform.WINDOWS
    if any(word in agent for word in ("macintosh", "mac os x", "darwin", "cfnetwork")):
        return Platform.MAC
    if "linux" in agent or "x11" in agent:
        return Platform.LINUX
    return Platform.ANY


@dataclass(frozen=True)
class Launcher:
    file_name: str
    content_type: str
    body: bytes


def file_tag(text: str) -> str:
    """A part of a file name: letters, digits and dashes."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:64] or "session"


def launcher_for(platform: Platform, url: str, tag: str, client: ClientBuild | None = None) -> Launcher:
    """The launcher for `url` (a customer client URL) on `platform`: with a client build, one
    that runs the client; without, one that opens the URL in the browser."""
    if not SAFE_URL.match(url):
        raise ValueError(f"not a customer client URL: {url!r}")
    name = f"lifeline-scc-{file_tag(tag)}"
    if platform is Platform.WINDOWS:
        body = scripts.windows(url, client) if client and "windows-amd64" in client.zipapps else windows_script(url)
        return Launcher(f"{name}.cmd", "application/x-msdos-program", body)
    if platform is Platform.MAC:
        executable = scripts.posix(url, client) if client else mac_executable(url)
        return Launcher(f"{name}.zip", "application/zip", mac_app_zip(executable))
    if platform is Platform.LINUX:
        return Launcher(f"{name}.sh", "application/x-sh", scripts.posix(url, client) if client else linux_script(url))
    return Launcher(f"{name}.html", "text/html; charset=utf-8", html_page(url))


def windows_script(url: str) -> bytes:
    lines = ["@echo off", "rem Opens your support session in your web browser.", f'start "" "{url}"', ""]
    return "\r\n".join(lines).encode("ascii")


def linux_script(url: str) -> bytes:
    return f"""#!/bin/sh
# Opens your support session in your web browser.
url='{url}'
if command -v xdg-open >/dev/null 2>&1; then exec xdg-open "$url"; fi
if command -v gio >/dev/null 2>&1; then exec gio open "$url"; fi
if command -v sensible-browser >/dev/null 2>&1; then exec sensible-browser "$url"; fi
echo "Open this address in your web browser: $url"
""".encode("ascii")


def mac_executable(url: str) -> bytes:
    # open(1) is /usr/bin/open, in the PATH of every Mac program (Finder's included).
    return f"""#!/bin/sh
# Opens your support session in your web browser.
exec open '{url}'
""".encode("ascii")


def mac_info_plist() -> bytes:
    return plistlib.dumps(
        {
            "CFBundleExecutable": MAC_EXECUTABLE,
            "CFBundleIdentifier": "org.lifeline.support-session",
            "CFBundleInfoDictionaryVersion": "6.0",
            "CFBundleName": "Start Support Session",
            "CFBundlePackageType": "APPL",
            "CFBundleShortVersionString": "1.0",
            "CFBundleVersion": "1",
        },
        sort_keys=True,
    )


def mac_app_zip(executable: bytes) -> bytes:
    """`Double-Click To Start Support Session.app`, stored uncompressed (so its size does not
    depend on the token), its executable marked executable."""
    contents = f"{MAC_APP}/Contents/"
    entries: list[tuple[str, int, bytes]] = [
        (f"{MAC_APP}/", 0o40755, b""),
        (contents, 0o40755, b""),
        (f"{contents}MacOS/", 0o40755, b""),
        (f"{contents}Info.plist", 0o100644, mac_info_plist()),
        (f"{contents}MacOS/{MAC_EXECUTABLE}", 0o100755, executable),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, mode, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = UNIX
            info.external_attr = mode << 16
            if name.endswith("/"):
                info.external_attr |= 0x10  # the MS-DOS directory flag, for Windows' unzippers
            archive.writestr(info, data)
    return buffer.getvalue()


def html_page(url: str) -> bytes:
    link = html.escape(url)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="0; url={link}">
<title>Start your support session</title>
</head>
<body>
<p>Opening your support session&hellip; If it does not open, <a href="{link}">open it here</a>.</p>
</body>
</html>
""".encode("ascii")
