"""The Jump Client installer as a download: a POSIX shell script (Linux, macOS) and a Windows
command script, made on the page that shows an installer key once. Each carries the site,
the key and the appliance's certificate, fetches the client from that appliance trusting the
certificate alone (the customer launchers' steps, appliance/client_fetch.py), keeps it in the
installation's folder, and runs `lifeline-client jump install SITE --key KEY --dir DIR --ca
CERT --service`.

Nothing here is typed by a person: the site is a checked host name and port, the key the
appliance's own (URL-safe characters); both are checked again so a script never carries
shell or cmd.exe syntax.
"""

from __future__ import annotations

import re

from lifeline.appliance.client_downloads import ClientBuild
from lifeline.appliance.client_fetch import WINDOWS_FETCH, newest_first, posix_cases, posix_fetch

SAFE_SITE = re.compile(r"https://[A-Za-z0-9.\-]+(:[0-9]{1,5})?\Z")
SAFE_KEY = re.compile(r"[A-Za-z0-9_\-]{16,128}\Z")
POSIX_DIR_ROOT = "/var/lib/lifeline-jump"  # as the lifeline jump-installer command prints it
POSIX_DIR_USER = "$HOME/.local/share/lifeline-jump"
WINDOWS_DIR = "%ProgramData%\\Lifeline Jump"


class NotInstallable(ValueError):
    """There is nothing to fetch (no client built for the platform), or the site or key is not ours."""


def _check(site: str, key: str) -> None:
    if not SAFE_SITE.match(site) or not SAFE_KEY.match(key):
        raise NotInstallable("the site or the installer key has characters an installer cannot carry")


def install_command(site: str, key: str, directory: str, ca: str, *, service: bool) -> str:
    """The one-line command of the installer page."""
    line = f"lifeline-client jump install {site} --key {key} --dir {directory} --ca {ca}"
    return line + (" --service" if service else "")


def posix(site: str, key: str, client: ClientBuild) -> bytes:
    _check(site, key)
    if not any(
        platform in client.zipapps for platform in ("linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64")
    ):
        raise NotInstallable("this appliance has no Lifeline client built for Linux or macOS")
    return f"""#!/bin/sh
# Installs a Lifeline Jump Client for {site}: fetches the client from it (trusting only
# its certificate, below), checks it, keeps it in the installation's folder and runs
# `lifeline-client jump install ... --service`. Run as root for a system service, or as a
# user for that user alone. Usage: sh THIS_FILE [FOLDER]
site='{site}'
key='{key}'
if [ "$(id -u)" = 0 ]; then dir="${{1:-{POSIX_DIR_ROOT}}}"; else dir="${{1:-{POSIX_DIR_USER}}}"; fi
client=''
case "$(uname -s)-$(uname -m)" in
{posix_cases(client)}esac
PATH="$PATH:/usr/local/bin:/opt/homebrew/bin:/Library/Frameworks/Python.framework/Versions/Current/bin"
cache="$dir/client"
fail() {{
    echo "$1" >&2
    exit 1
}}
mkdir -p "$dir" || fail "Could not make the folder $dir."
{posix_fetch(client)}SHIV_ROOT="$cache/unpacked"
export SHIV_ROOT
exec "$python" "$target" jump install "$site" --key "$key" --dir "$dir" --ca "$cert" --service
""".encode("ascii")


def windows(site: str, key: str, client: ClientBuild) -> bytes:
    _check(site, key)
    artifact = client.zipapps.get("windows-amd64")
    if artifact is None:
        raise NotInstallable("this appliance has no Lifeline client built for Windows")
    lines = [
        "@echo off",
        f"rem Installs a Lifeline Jump Client for {site}: fetches the client from it (trusting only",
        "rem its certificate, below), checks it and runs `lifeline-client jump install ... --service`.",
        "rem Run it from an administrator's command prompt. Usage: THIS_FILE [FOLDER]",
        "setlocal",
        f'set "site={site}"',
        f'set "key={key}"',
        f'set "dir={WINDOWS_DIR}"',
        'if not "%~1"=="" set "dir=%~1"',
        f'set "client={artifact.name}"',
        f'set "sum={artifact.sha256}"',
        f'set "pin={client.pin.tag}"',
        f'set "cert={client.pin.base64}"',
        'set "cache=%dir%\\client"',
        'set "self=%~f0"',
        'set "py="',
        f'for %%v in ({newest_first(artifact)}) do if not defined py (py -%%v -c "" >nul 2>&1 && set "py=py -%%v")',
        "if not defined py (echo The Lifeline client needs Python 3.11 or later, from python.org. & exit /b 1)",
        "powershell -NoProfile -ExecutionPolicy Bypass -Command \"iex ((Get-Content -LiteralPath $env:self -Raw) -split '#{2}POWERSHELL#{2}')[1]\"",
        "if errorlevel 1 exit /b 1",
        'set "SHIV_ROOT=%cache%\\unpacked"',
        '%py% "%cache%\\%client%" jump install "%site%" --key "%key%" --dir "%dir%" --ca "%cache%\\appliance-%pin%.pem" --service',
        "exit /b %errorlevel%",
        "##POWERSHELL##",
        *WINDOWS_FETCH.strip("\n").splitlines(),
        "",
    ]
    return "\r\n".join(lines).encode("ascii")
