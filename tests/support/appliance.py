"""A real appliance for tests: the `lifeline serve` process on loopback ports, its own
data directory, and its own database (a SQLite file, or a fresh PostgreSQL database
when DATABASE_URL points at a server)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import secrets
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.cluster import serve_command
from lifeline.bootstrap import open_database
from lifeline.cli import main as cli_main
from lifeline.config import Config, normalize_database_url
from lifeline.db.engine import Database
from lifeline.runtime import STAMP_POLL_SECONDS

ADMIN_PASSWORD = "admin-password-1"
T = TypeVar("T")


_ports_given: set[int] = set()


def free_port() -> int:
    """A loopback port free just now and not handed out before in this test run. Another
    program can still take it before the appliance binds it: `start` then tries new ports."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


class ScratchDatabase:
    """A database of its own: a file under the data directory, or a new PostgreSQL database.
    `server_url` picks the kind ("" for SQLite); by default DATABASE_URL decides."""

    def __init__(self, data_dir: Path, server_url: str | None = None) -> None:
        self.server_url = os.environ.get("DATABASE_URL", "") if server_url is None else server_url
        self.name = ""
        if self.server_url:
            self.name = "lifeline_t_" + secrets.token_hex(6)
            admin = create_engine(normalize_database_url(self.server_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            admin.dispose()
            self.url = (
                make_url(normalize_database_url(self.server_url))
                .set(database=self.name)
                .render_as_string(hide_password=False)
            )
        else:
            self.url = ""  # the appliance's default: a SQLite file in its data directory

    def drop(self) -> None:
        if not self.name:
            return
        admin = create_engine(normalize_database_url(self.server_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


class RunningAppliance:
    def __init__(
        self,
        data_dir: Path,
        *,
        hostname: str = "support.example.com",
        database: ScratchDatabase | None = None,
        database_server: str | None = None,
        env: dict[str, str] | None = None,
        file_limit: int | None = None,
    ) -> None:
        """`database`: share another appliance process's database (two processes, one appliance);
        `database_server`: make this appliance's database on that server instead of DATABASE_URL's;
        `file_limit`: the process's limit of open files (RLIMIT_NOFILE), for running out of them."""
        self.data_dir = data_dir
        self.hostname = hostname
        self.https_port = free_port()
        self.http_port = free_port()
        self.owns_database = database is None
        self.database = database or ScratchDatabase(data_dir, database_server)
        self.env = {
            **os.environ,
            "LIFELINE_DATA_DIR": str(data_dir),
            "LIFELINE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "DATABASE_URL": self.database.url,
            **(env or {}),
        }
        self.file_limit = file_limit
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "serve.log"
        self._db: Database | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        for _attempt in range(3):
            if self._start_once():
                return
            # Something else took a port between free_port() and the bind: take new ones.
            self.https_port, self.http_port = free_port(), free_port()
        raise RuntimeError(f"the appliance found its ports taken three times:\n{self.log_path.read_text()}")

    def _start_once(self) -> bool:
        """Start and wait for health; False when the process could not bind its ports."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = self._spawn(log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                printed = self.log_path.read_bytes()[log_start:].decode(errors="replace")
                if "address already in use" in printed:
                    return False
                raise RuntimeError(f"the appliance exited:\n{self.log_path.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.http_port}/check_health", timeout=1).status_code == 200:
                    return True
            time.sleep(0.1)
        raise RuntimeError(f"the appliance did not start:\n{self.log_path.read_text()}")

    def log_tail(self, characters: int = 20000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:] if self.log_path.exists() else ""

    def _spawn(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            serve_command(self.hostname, self.https_port, self.http_port),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=self._limit_files if self.file_limit else None,
        )

    def _limit_files(self) -> None:
        assert self.file_limit is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.file_limit, self.file_limit))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        if self._db is not None:
            self._db.close()
        if self.owns_database:
            self.database.drop()

    # --- talking to it ---------------------------------------------------------------------

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def cert_path(self) -> Path:
        return self.data_dir / "tls" / "appliance.crt"

    def client(self, *, source: str | None = None, **kwargs: Any) -> httpx.Client:
        """An HTTPS client that trusts the appliance's own certificate (and nothing else).
        `source`: another loopback address to connect from (127.0.0.2 ...), as a second
        client address would."""
        context = ssl.create_default_context(cafile=str(self.cert_path))
        context.check_hostname = False  # we connect by IP; the certificate names the site hostname
        if source is not None:
            kwargs["transport"] = httpx.HTTPTransport(verify=context, local_address=source)
        return httpx.Client(base_url=self.https, verify=context, timeout=30, **kwargs)

    def cli(self, *args: str) -> str:
        """Run a `lifeline` subcommand against this appliance's data, as an operator would;
        returns what it printed."""
        old = {key: os.environ.get(key) for key in ("DATABASE_URL", "LIFELINE_DATA_DIR")}
        os.environ["DATABASE_URL"] = self.database.url
        os.environ["LIFELINE_DATA_DIR"] = str(self.data_dir)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                cli_main(list(args))
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return out.getvalue()

    def cli_settled(self, *args: str) -> str:
        """`cli`, then wait until the running appliance has surely noticed the change (it polls
        the database's change stamps every half second); for changes a test cannot observe."""
        printed = self.cli(*args)
        time.sleep(STAMP_POLL_SECONDS * 2)
        return printed

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json"))

    @property
    def db(self) -> Database:
        """The same database the appliance uses, for setting up sessions through the engine."""
        if self._db is None:
            config = Config(
                data_dir=self.data_dir,
                database_url=normalize_database_url(self.database.url) if self.database.url else "",
            )
            self._db = open_database(config)
        return self._db

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.db.call(fn, *args, **kwargs)

    def with_session(self, fn: Callable[[Session], T]) -> T:
        return self.db.call(fn)


@contextlib.contextmanager
def running_appliance(data_dir: Path, **kwargs: Any) -> Iterator[RunningAppliance]:
    appliance = RunningAppliance(data_dir, **kwargs)
    try:
        appliance.start()
        yield appliance
    finally:
        appliance.close()


needs_two_processes = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)",
)


@contextlib.contextmanager
def two_processes(data_dir: Path) -> Iterator[tuple[RunningAppliance, RunningAppliance]]:
    """Two appliance processes on one database (PostgreSQL, with Redis between them)."""
    first = RunningAppliance(data_dir)
    second = RunningAppliance(data_dir, database=first.database)
    second.log_path = data_dir / "serve-second.log"
    try:
        first.start()
        second.start()
        yield first, second
    finally:
        second.close()
        first.close()


def eventually(check: Callable[[], T], *, timeout: float = 5.0, interval: float = 0.05) -> T:
    """Retry `check` until it stops raising AssertionError (changes made by another process
    reach the appliance's caches within its half-second stamp poll)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)
