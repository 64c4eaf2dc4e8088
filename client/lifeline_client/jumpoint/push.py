"""A local push (`push_client`, the spec's `push_and_start_local`): the Jumpoint logs in to
a Linux or macOS host of its network over SSH, copies the customer client there and starts
it for the session, pinned to the appliance's certificate, as the launchers would on that
host. The client comes from the appliance (its build's manifest names one zipapp per
platform, with its SHA-256), fetched over the Jumpoint's pinned TLS and checked before use.
Windows hosts are not done (docs/jump.md, "Windows hosts")."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import shlex
import ssl
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from lifeline_protocol.jump import PushClient

from lifeline_client.jumpoint.ssh import KnownHosts, Login, SshError, open_connection
from lifeline_client.start import Site

log = logging.getLogger(__name__)

MANIFEST_PATH = "/download/client/manifest.json"
DOWNLOAD_PATH = "/download/client/"
MAX_MANIFEST = 256 * 1024
MAX_CLIENT = 256 * 1024 * 1024  # bytes of a client zipapp
HTTP_TIMEOUT = 60.0
COMMAND_TIMEOUT = 15.0  # seconds for one command on the host
COPY_TIMEOUT = 300.0
START_WAIT = 5.0  # seconds for the started client to join (the appliance waits 15 s for the answer)
CACHE = "push-cache"  # in the Jumpoint's folder: the zipapps fetched, by name
HOST_FOLDER = ".cache/lifeline"  # under the login's home on the host
# `uname -sm` of each platform's build (as the launchers match them).
MACHINES = {
    ("Linux", "x86_64"): "linux-x86_64",
    ("Linux", "amd64"): "linux-x86_64",
    ("Linux", "aarch64"): "linux-aarch64",
    ("Linux", "arm64"): "linux-aarch64",
    ("Darwin", "arm64"): "macos-arm64",
    ("Darwin", "x86_64"): "macos-x86_64",
}
_NAME = re.compile(r"lifeline-client-[0-9A-Za-z.+]+-[a-z0-9_]+-[a-z0-9_]+\.pyz\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_PYTHON = re.compile(r"3\.[0-9]{1,2}\Z")
# What the host says first: its system, machine, home folder and python3's version.
PROBE = (
    "uname -s; uname -m; printf '%s\\n' \"$HOME\"; "
    "python3 -c 'import sys; print(\"%d.%d\" % sys.version_info[:2])' 2>/dev/null || echo none"
)


class PushError(Exception):
    """Why the push failed, in words for the representative."""


@dataclass(frozen=True)
class Zipapp:
    name: str
    sha256: str
    size: int
    pythons: tuple[str, ...]


@dataclass(frozen=True)
class Build:
    zipapps: dict[str, Zipapp]  # by platform
    pin_pem: str
    pin_tag: str


def login_of(message: PushClient) -> Login:
    return Login(
        host=message.host,
        port=message.port,
        username=message.username,
        password=message.password,
        private_key=message.private_key,
    )


# --- the appliance's side ----------------------------------------------------------------------


def _get(site: Site, path: str, context: ssl.SSLContext, limit: int) -> bytes:
    connection = site.connection(context, HTTP_TIMEOUT)
    try:
        connection.request("GET", path, headers={"User-Agent": "lifeline-client jumpoint"})
        response = connection.getresponse()
        if response.status != 200:
            raise PushError(f"the appliance has no client to push ({response.status} for {path})")
        length = int(response.getheader("Content-Length") or 0)
        if length > limit:
            raise PushError(f"the appliance's {path} is too large ({length} bytes)")
        body = response.read(limit + 1)
        if len(body) > limit:
            raise PushError(f"the appliance's {path} is too large")
        return body
    except ssl.SSLCertVerificationError as error:
        raise PushError(f"{site.origin} is not trusted: {error.verify_message}") from None
    except OSError as error:
        raise PushError(f"cannot reach {site.origin}: {error}") from None
    finally:
        connection.close()


def parse_manifest(raw: bytes) -> Build:
    """The appliance's answer: entries that do not look right are left out."""
    try:
        data = json.loads(raw)
        zipapps = {}
        for platform, entry in dict(data["zipapps"]).items():
            zipapp = Zipapp(str(entry["name"]), str(entry["sha256"]), int(entry["size"]), tuple(entry["pythons"]))
            if _NAME.match(zipapp.name) and _SHA256.match(zipapp.sha256) and 0 < zipapp.size <= MAX_CLIENT:
                zipapps[str(platform)] = zipapp
        pem = str(data["pin"]["pem"])
        tag = str(data["pin"]["tag"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PushError(f"the appliance's client manifest cannot be read: {error}") from None
    if "BEGIN CERTIFICATE" not in pem or not re.fullmatch(r"[0-9a-f]{16}", tag):
        raise PushError("the appliance's client manifest has no certificate")
    return Build(zipapps, pem, tag)


def fetch_zipapp(site: Site, context: ssl.SSLContext, zipapp: Zipapp, cache: Path) -> Path:
    """The zipapp in the Jumpoint's cache, fetched when missing or not the one expected."""
    path = cache / zipapp.name
    if path.is_file() and _sha256(path) == zipapp.sha256:
        return path
    body = _get(site, DOWNLOAD_PATH + zipapp.name, context, MAX_CLIENT)
    if hashlib.sha256(body).hexdigest() != zipapp.sha256:
        raise PushError("the client fetched from the appliance is not the one its manifest names; not pushed")
    cache.mkdir(mode=0o700, parents=True, exist_ok=True)
    part = path.with_suffix(f".{os.getpid()}.part")
    part.write_bytes(body)
    part.replace(path)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the host's side ---------------------------------------------------------------------------


async def _run(connection: asyncssh.SSHClientConnection, command: str, what: str) -> str:
    try:
        result = await asyncio.wait_for(connection.run(command, check=False), COMMAND_TIMEOUT)
    except (TimeoutError, asyncssh.Error, OSError) as error:
        raise PushError(f"{what}: {error or type(error).__name__}") from None
    if result.exit_status != 0:
        said = str(result.stderr or result.stdout or "").strip()[-300:]
        raise PushError(f"{what}: {said or f'exit status {result.exit_status}'}")
    return str(result.stdout or "")


def start_command(folder: str, zipapp: str, cert: str, chat_url: str, allowed: list[str], log_file: str) -> str:
    """Start the client detached from this SSH session (setsid where there is one, nohup
    always), everything of it, the subshell's too, to a log file in its folder, so the SSH
    session's output ends at once; prints its process id."""
    arguments = ["python3", zipapp, "attach", chat_url, "--pin", cert, "--no-chat", "--verbose"]
    if allowed:
        arguments += ["--allow", ",".join(allowed)]
    quoted = " ".join(shlex.quote(argument) for argument in arguments)
    return (
        f"( cd {shlex.quote(folder)} && SHIV_ROOT={shlex.quote(folder + '/unpacked')} && export SHIV_ROOT && "
        f"if command -v setsid >/dev/null 2>&1; then exec setsid nohup {quoted}; else exec nohup {quoted}; fi ) "
        f"> {shlex.quote(log_file)} 2>&1 < /dev/null & echo $!"
    )


async def push_client(message: PushClient, site: Site, context: ssl.SSLContext, folder: Path) -> str:
    """Push and start the client; "" when it joined (or is still starting), else why not."""
    login = login_of(message)
    try:
        connection = await open_connection(login, KnownHosts(folder / "known_hosts"))
    except SshError as error:
        return str(error)
    try:
        await _push(message, login, connection, site, context, folder)
    except PushError as error:
        log.info("push to %s for session %s failed: %s", login.where, message.lsid, error)
        return str(error)[:1024]
    finally:
        connection.close()
    return ""


async def _push(
    message: PushClient,
    login: Login,
    connection: asyncssh.SSHClientConnection,
    site: Site,
    context: ssl.SSLContext,
    folder: Path,
) -> None:
    try:
        lines = (await _run(connection, PROBE, f"{login.host} did not say what it is")).splitlines()
    except PushError as error:  # no POSIX shell: most likely Windows (docs/jump.md, "Windows hosts")
        raise PushError(f"{error}; pushing reaches Linux and macOS hosts only") from None
    if len(lines) < 4:
        raise PushError(f"{login.host} did not say what it is")
    system, machine, home, python = (line.strip() for line in lines[:4])
    if system not in ("Linux", "Darwin"):
        raise PushError(
            f"{login.host} runs {system or 'an unknown system'}: pushing reaches Linux and macOS hosts only"
        )
    platform = MACHINES.get((system, machine))
    build = parse_manifest(await asyncio.to_thread(_get, site, MANIFEST_PATH, context, MAX_MANIFEST))
    zipapp = build.zipapps.get(platform or "")
    if zipapp is None:
        raise PushError(f"the appliance has no Lifeline client for {login.host} ({system} {machine})")
    if not _PYTHON.match(python):
        raise PushError(f"{login.host} has no python3: the Lifeline client needs Python {', '.join(zipapp.pythons)}")
    if python not in zipapp.pythons:
        raise PushError(f"{login.host} has Python {python}; the Lifeline client needs {', '.join(zipapp.pythons)}")
    local = await asyncio.to_thread(fetch_zipapp, site, context, zipapp, folder / CACHE)
    if not home.startswith("/"):
        raise PushError(f"{login.host} did not say where the home folder of {login.username} is")
    remote = f"{home}/{HOST_FOLDER}"
    await _run(connection, f"umask 077 && mkdir -p {shlex.quote(remote)} && chmod 700 {shlex.quote(remote)}", "mkdir")
    target = f"{remote}/{zipapp.name}"
    cert = f"{remote}/appliance-{build.pin_tag}.pem"
    try:
        async with connection.start_sftp_client() as sftp:
            await asyncio.wait_for(_copy(sftp, local, target, zipapp.size), COPY_TIMEOUT)
            async with sftp.open(cert, "w", asyncssh.SFTPAttrs(permissions=0o600)) as out:
                await out.write(build.pin_pem)
    except (TimeoutError, asyncssh.Error, OSError) as error:
        raise PushError(f"could not copy the client to {login.host}: {error or type(error).__name__}") from None
    log_file = f"{remote}/lifeline-client-{message.lsid[:16]}.log"
    allowed = [str(capability) for capability in message.allowed]
    command = start_command(remote, target, cert, message.chat_url, allowed, log_file)
    pid = (await _run(connection, command, f"could not start the client on {login.host}")).strip()
    if not pid.isdigit():
        raise PushError(f"could not start the client on {login.host}: {pid[-300:] or 'no process'}")
    await _wait_started(connection, login, pid, log_file)


async def _copy(sftp: asyncssh.SFTPClient, local: Path, target: str, size: int) -> None:
    """Copy unless the same file is there already (same size: the name carries the version)."""
    with contextlib.suppress(asyncssh.SFTPError):
        if (await sftp.stat(target)).size == size:
            return
    part = f"{target}.part"
    await sftp.put(str(local), part)
    await sftp.chmod(part, 0o600)
    await sftp.posix_rename(part, target)


async def _wait_started(connection: asyncssh.SSHClientConnection, login: Login, pid: str, log_file: str) -> None:
    """Joined (its log says so), or still starting after START_WAIT: started. Ended, or
    running but unable to reach the appliance from the host: stopped, and why in words."""
    log_path = shlex.quote(log_file)
    check = (
        f"if kill -0 {pid} 2>/dev/null; then "
        f"if grep -q 'Connected to the support session' {log_path}; then echo joined; else echo running; fi; "
        f"else echo ended; fi; tail -n 5 {log_path}"
    )
    deadline = asyncio.get_running_loop().time() + START_WAIT
    while True:
        said = (await _run(connection, check, f"could not check the client on {login.host}")).splitlines()
        state = said[0] if said else "ended"
        last = [line.removeprefix("lifeline-client: ").strip() for line in said[1:] if line.strip()]
        if state == "joined":
            return
        if state == "ended":
            raise PushError(f"the client ended on {login.host}: {' '.join(last)[-300:] or 'no reason given'}")
        if asyncio.get_running_loop().time() > deadline:
            lost = [line for line in last if line.startswith("connection to the appliance lost")]
            if lost:  # it would try for ever: the host cannot reach the appliance's site
                await _run(connection, f"kill {pid} 2>/dev/null; true", "stop the client")
                raise PushError(f"the client started on {login.host} but cannot reach the support site: {lost[-1]}")
            log.info("the client pushed to %s is still starting after %.0f s", login.where, START_WAIT)
            return
        await asyncio.sleep(0.5)
