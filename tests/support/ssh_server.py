"""An SSH server on loopback for the Jumpoint's tests (asyncssh): password logins, shells
on a real pseudo-terminal running /bin/sh, commands run on this machine, SFTP. It runs in
its own thread with its own event loop, so synchronous tests and other loops can use it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
from ptyprocess import PtyProcess

USERNAME = "helpdesk"
PASSWORD = "correct horse battery staple"


class _Server(asyncssh.SSHServer):
    def __init__(self, client_key: asyncssh.SSHKey | None) -> None:
        self.client_key = client_key

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return self.client_key is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return self.client_key is not None and username == USERNAME and key.public_data == self.client_key.public_data

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USERNAME and password == PASSWORD


async def _shell(process: asyncssh.SSHServerProcess[bytes], environment: dict[str, str], home: str) -> None:
    cols, rows, _, _ = process.term_size
    child: Any = PtyProcess.spawn(["/bin/sh", "-i"], env=environment, cwd=home, dimensions=(rows or 24, cols or 80))
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    def readable() -> None:
        try:
            data = os.read(child.fd, 65536)
        except OSError:
            data = b""
        if data:
            process.stdout.write(data)
        else:
            loop.remove_reader(child.fd)
            done.set()

    loop.add_reader(child.fd, readable)

    async def typed() -> None:
        while not done.is_set():
            try:
                data = await process.stdin.read(4096)
            except asyncssh.TerminalSizeChanged as change:
                child.setwinsize(change.height, change.width)
                continue
            except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue
            if not data:
                with contextlib.suppress(OSError):
                    child.kill(signal.SIGHUP)
                return
            os.write(child.fd, data)

    reader = loop.create_task(typed())
    await done.wait()
    reader.cancel()
    while child.isalive():
        await asyncio.sleep(0.02)
    code = child.exitstatus if child.exitstatus is not None else 128 + int(child.signalstatus or 0)
    child.close(force=True)
    process.exit(code)


async def _command(process: asyncssh.SSHServerProcess[bytes], environment: dict[str, str], home: str) -> None:
    """A command, its whole output, then its exit status (no input: the tests' need none)."""
    local = await asyncio.create_subprocess_shell(
        str(process.command),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
        cwd=home,
    )
    out, err = await local.communicate()
    process.stdout.write(out)
    process.stderr.write(err)
    process.exit(local.returncode or 0)


@dataclass
class SshServer:
    host: str
    port: int
    key: asyncssh.SSHKey
    home: Path
    commands: list[str]


@contextlib.contextmanager
def ssh_server(
    home: Path, *, path: str | None = None, client_key: asyncssh.SSHKey | None = None
) -> Iterator[SshServer]:
    """Serve SSH on 127.0.0.1 until the block ends; `home` is the logins' home folder,
    `path` the PATH their commands see; `client_key` is also let in (public key login)."""
    # A host of the network: its own home, no display of this machine's.
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_CACHE_HOME")}
    environment.update(HOME=str(home), TERM="xterm-256color", PS1="$ ")
    if path is not None:
        environment["PATH"] = path
    commands: list[str] = []
    key = asyncssh.generate_private_key("ssh-ed25519")
    started = threading.Event()
    loop = asyncio.new_event_loop()
    holder: dict[str, Any] = {}

    async def process(session: asyncssh.SSHServerProcess[bytes]) -> None:
        if session.command is None:
            await _shell(session, environment, str(home))
        else:
            commands.append(str(session.command))
            await _command(session, environment, str(home))

    async def start() -> None:
        holder["server"] = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[key],
            server_factory=lambda: _Server(client_key),
            process_factory=process,
            encoding=None,
            sftp_factory=True,
            allow_scp=False,
        )
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10), "the SSH server did not start"
    server = holder["server"]
    port = server.sockets[0].getsockname()[1]
    try:
        yield SshServer("127.0.0.1", port, key, home, commands)
    finally:

        async def stop() -> None:
            server.close()
            await server.wait_closed()
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
