"""SSH from a Jumpoint to a host of its network: a connection with the representative's
credentials (held in memory for one session, never written or logged), and command shells
on it that serve as the session client's shells (`Pty`), so the appliance records them as
any other.

Host keys are trusted on first use: the first key a host:port shows is written to the
Jumpoint's `known_hosts` (and shown as the shell's first line); a different key later is
refused in words (docs/decisions.md, "Jumpoint host keys")."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from lifeline_client.shell import Pty, Shell

log = logging.getLogger(__name__)
# asyncssh says every channel and auth step at INFO: a Jumpoint's log keeps its own words.
logging.getLogger("asyncssh").setLevel(logging.WARNING)

CONNECT_TIMEOUT = 10.0  # seconds to reach the host and log in
KEEPALIVE = 30.0  # seconds between keep-alives: a host gone away ends its shells
KNOWN_HOSTS = "known_hosts"  # in the Jumpoint's folder
MAX_KNOWN_HOSTS = 4 * 1024 * 1024  # bytes: a larger file is not ours
TERM = "xterm-256color"


class SshError(OSError):
    """Why SSH to a host failed, in words for the representative."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "SSH failed"


@dataclass(frozen=True)
class Login:
    """Where and as whom: the secrets stay out of repr, so no log line can show them."""

    host: str
    port: int
    username: str
    password: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def fingerprint(key: asyncssh.SSHKey) -> str:
    return str(key.get_fingerprint("sha256"))


class KnownHosts:
    """The Jumpoint's trusted host keys: lines of `host:port key-type base64`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _entry(self, where: str) -> str:
        return f"[{where.rsplit(':', 1)[0]}]:{where.rsplit(':', 1)[1]}"

    def lookup(self, where: str) -> asyncssh.SSHKey | None:
        try:
            if self.path.stat().st_size > MAX_KNOWN_HOSTS:
                raise SshError(f"{self.path} is too large to be a known_hosts file")
            lines = self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise SshError(f"cannot read {self.path}: {error}") from None
        name = self._entry(where)
        for line in lines:
            parts = line.split()
            if len(parts) >= 3 and parts[0] == name:
                with contextlib.suppress(asyncssh.KeyImportError):
                    return asyncssh.import_public_key(f"{parts[1]} {parts[2]}")
        return None

    def remember(self, where: str, key: asyncssh.SSHKey) -> None:
        line = f"{self._entry(where)} {key.export_public_key('openssh').decode().split()[0]} "
        line += key.export_public_key("openssh").decode().split()[1] + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write(line)


class _HostKeyCheck(asyncssh.SSHClient):
    """Trust on first use: the decision is made here, asyncssh's own lists are left empty."""

    def __init__(self, known: KnownHosts, where: str) -> None:
        self.known = known
        self.where = where
        self.first_seen: asyncssh.SSHKey | None = None
        self.changed: tuple[str, str] | None = None  # (was, now) fingerprints

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        trusted = self.known.lookup(self.where)
        if trusted is None:
            self.first_seen = key
            return True
        if trusted.public_data == key.public_data:
            return True
        self.changed = (fingerprint(trusted), fingerprint(key))
        return False


class Link:
    """One Shell Jump's SSH connection, made on the first shell and reused by the others."""

    def __init__(self, login: Login, folder: Path) -> None:
        self.login = login
        self.known = KnownHosts(folder / KNOWN_HOSTS)
        self._connection: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()
        self.notice = b""  # said once in the first shell: a host key trusted on first use

    async def connect(self) -> asyncssh.SSHClientConnection:
        async with self._lock:
            if self._connection is None or self._connection.is_closed():
                self._connection = await open_connection(self.login, self.known, self._first_use)
            return self._connection

    def _first_use(self, key: asyncssh.SSHKey) -> None:
        self.notice = (
            f"Lifeline: first connection to {self.login.where} through this Jumpoint; its host key "
            f"{fingerprint(key)} is trusted from now on.\r\n"
        ).encode()

    async def make_shell(self, shell: Shell, cols: int, rows: int) -> None:
        """The session client's shell maker: an SSH session with a terminal of cols x rows."""
        connection = await self.connect()
        terminal = SshTerminal()
        try:
            channel, _ = await asyncio.wait_for(
                connection.create_session(
                    lambda: _Session(terminal), term_type=TERM, term_size=(cols, rows), encoding=None
                ),
                CONNECT_TIMEOUT,
            )
        except (asyncssh.Error, TimeoutError) as error:
            raise SshError(f"{self.login.where} would not open a shell: {_reason(error)}") from None
        terminal.channel = channel
        if self.notice:
            terminal.early.insert(0, self.notice)
            self.notice = b""
        shell.run_on(terminal)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def open_connection(
    login: Login, known: KnownHosts, first_use: Callable[[asyncssh.SSHKey], None] = lambda key: None
) -> asyncssh.SSHClientConnection:
    """Connect and log in within CONNECT_TIMEOUT; SshError in words otherwise. Only the
    credentials given are tried: no agent, no keys or config of the Jumpoint's own user."""
    keys: list[asyncssh.SSHKey] | None = None
    if login.private_key.strip():
        try:
            keys = [asyncssh.import_private_key(login.private_key, login.password or None)]
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as error:
            raise SshError(f"the private key cannot be used: {error}") from None
    check = _HostKeyCheck(known, login.where)
    options: dict[str, Any] = {
        "username": login.username,
        "password": login.password or None,
        "client_keys": keys,
        "agent_path": None,
        "config": None,
        "known_hosts": ([], [], []),
        "client_factory": lambda: check,
        "connect_timeout": CONNECT_TIMEOUT,
        "login_timeout": CONNECT_TIMEOUT,
        "keepalive_interval": KEEPALIVE,
        "gss_host": None,
    }
    try:
        connection = await asyncio.wait_for(
            asyncssh.connect(login.host.strip("[]"), login.port, **options), CONNECT_TIMEOUT + 1
        )
    except asyncssh.PermissionDenied:
        raise SshError(f"authentication failed for {login.username} at {login.where}") from None
    except asyncssh.HostKeyNotVerifiable:
        if check.changed is not None:
            was, now = check.changed
            raise SshError(
                f"the host key of {login.where} has changed (was {was}, now {now}): refused, it may not be "
                f"the host you mean; if the change is expected, remove its line from {known.path}"
            ) from None
        raise SshError(f"the host key of {login.where} could not be checked") from None
    except TimeoutError:
        raise SshError(f"{login.where} did not answer within {CONNECT_TIMEOUT:.0f} seconds") from None
    except socket.gaierror:
        raise SshError(f"{login.host} is not a host name this Jumpoint can resolve") from None
    except ConnectionRefusedError:
        raise SshError(f"{login.where} refused the connection (no SSH server on that port?)") from None
    except OSError as error:
        if error.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            raise SshError(f"no route from this Jumpoint to {login.host}") from None
        raise SshError(f"cannot reach {login.where}: {error.strerror or error}") from None
    except asyncssh.Error as error:
        raise SshError(f"SSH to {login.where} failed: {_reason(error)}") from None
    if check.first_seen is not None:
        known.remember(login.where, check.first_seen)
        log.info("trusted the host key of %s on first use: %s", login.where, fingerprint(check.first_seen))
        first_use(check.first_seen)
    return connection


def _reason(error: BaseException) -> str:
    if isinstance(error, asyncssh.Error):
        return error.reason or type(error).__name__
    return str(error) or type(error).__name__


class _Session(asyncssh.SSHClientSession[bytes]):
    def __init__(self, terminal: SshTerminal) -> None:
        self.terminal = terminal

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.terminal.received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.terminal.ended()


class SshTerminal(Pty):
    """An SSH session's terminal, as the shell sees a pseudo-terminal's."""

    def __init__(self) -> None:
        self.channel: asyncssh.SSHClientChannel[bytes] | None = None
        self.early: list[bytes] = []  # what came before the shell watched
        self._on_data: Callable[[bytes], None] | None = None
        self._on_eof: Callable[[], None] | None = None
        self._ended = False
        self._closed = asyncio.Event()

    def received(self, data: bytes) -> None:
        if self._on_data is None:
            self.early.append(data)
        else:
            self._on_data(data)

    def ended(self) -> None:
        self._ended = True
        self._closed.set()
        if self._on_eof is not None:
            self._on_eof()

    def watch(
        self, loop: asyncio.AbstractEventLoop, on_data: Callable[[bytes], None], on_eof: Callable[[], None]
    ) -> None:
        self._on_data, self._on_eof = on_data, on_eof
        for data in self.early:
            on_data(data)
        self.early.clear()
        if self._ended:
            on_eof()

    def pause(self) -> None:
        if self.channel is not None:
            self.channel.pause_reading()

    def resume(self) -> None:
        if self.channel is not None:
            self.channel.resume_reading()

    def write(self, pending: bytearray) -> None:
        # asyncssh buffers what the window will not take yet.
        if self.channel is not None and not self._ended:
            self.channel.write(bytes(pending))
        pending.clear()

    def resize(self, cols: int, rows: int) -> None:
        if self.channel is not None and not self._ended:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.channel.change_terminal_size(cols, rows)

    def hangup(self) -> None:
        if self.channel is not None:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.channel.send_signal("HUP")
            self.channel.close()

    async def exit_code(self, wait: float) -> int | None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), wait)
        if self.channel is None:
            return None
        status = self.channel.get_exit_status()
        if status is not None and status >= 0:
            return status
        signal_name = (self.channel.get_exit_signal() or ("",))[0]
        return 129 if signal_name == "HUP" else None

    def release(self) -> None:
        pass
