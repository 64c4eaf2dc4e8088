"""Private Redis and PostgreSQL servers on free loopback ports, for tests and benches that
restart them (never the machine's own: other programs use those)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def available() -> str:
    """Why private servers cannot be started here, or "" when they can."""
    if shutil.which("redis-server") is None:
        return "needs redis-server"
    if _postgres_bin() is None:
        return "needs PostgreSQL's server programs (/usr/lib/postgresql/*/bin)"
    return ""


class PrivateRedis:
    """A redis-server that keeps nothing on disk, on its own port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.RedisError):
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("the private redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # as a crash would: nothing is flushed
            self.process.wait()
            self.process = None

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


class PrivatePostgres:
    """A PostgreSQL cluster of its own in a temporary directory, trusting local connections."""

    def __init__(self) -> None:
        bin_dir = _postgres_bin()
        assert bin_dir is not None, available()
        self.bin = bin_dir
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="lifeline-pg-"))
        self.data = self.dir / "data"
        # PostgreSQL refuses to run as root: then it runs as the postgres account.
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        subprocess.run(
            [*self.as_user, self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth", "trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            env=self._env(),
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _env(self) -> dict[str, str]:
        return {**os.environ, "LC_ALL": "C.UTF-8"}

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, self.bin / "pg_ctl", "-D", self.data, "-l", self.dir / "postgres.log", *args],
            check=True,
            capture_output=True,
            env=self._env(),
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._ctl("-o", options, "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` ends every connection at once, as a crash would (recovery runs on start)."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-m", mode, "-w", "stop")

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()
