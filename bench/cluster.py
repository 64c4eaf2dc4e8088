"""Several appliance nodes behind HAProxy, on one machine: for the cluster tests and for the
benches that kill nodes under load.

    url = create_database("postgresql://postgres@127.0.0.1:5432/postgres")   # a fresh one
    cluster = Cluster(Path("cluster-data"), database_url=url, redis_url="redis://127.0.0.1:6379/0")
    cluster.start()                 # the appliance made once, nodes 0..N-1, then HAProxy
    cluster.url                     # https://127.0.0.1:PORT, what customers and reps use
    cluster.cert_path               # the certificate every node presents: trust or pin it
    cluster.lifeline("user", "add", ...)   # a `lifeline` subcommand on the cluster's data
    cluster.kill(1)                 # kill -9; HAProxy takes it out of rotation in about a second
    cluster.restart(1)              # kill -9 if alive, start on the same ports, back in rotation
    cluster.connections()           # {node index: connections HAProxy holds to it now}
    cluster.nodes[1].https          # one node's own address, to place a connection there
    cluster.stop(); drop_database(url)

Every node is a `lifeline serve` process with the same data directory (the file store, the
TLS certificate), database and Redis, as the nodes of a deployment share them. HAProxy
passes TLS through (`mode tcp`) to each node's HTTPS port and checks each node's plain
`/check_health` on its HTTP port (docs/decisions.md, "Several nodes: HAProxy passes TLS
through"). The configuration it runs is `haproxy_config`, the one docs/install.md shows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lifeline.appliance.settings import set_setting
from lifeline.appliance.tls import ensure_certificate
from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config, normalize_database_url

ADMIN_PASSWORD = "admin-password-1"
HAPROXY = os.environ.get("LIFELINE_HAPROXY", "/usr/sbin/haproxy")

# How fast HAProxy gives up on a dead node: a check every 300 ms, out after 2 failures;
# back in after 2 good ones. A connection that finds a dead node before the checks do is
# sent to another (`option redispatch`, `retries`).
CHECK_INTERVAL_MS = 300
CHECK_FALL = 2
CHECK_RISE = 2
# How long a check may take. A dead node refuses at once, so this does not slow noticing a
# kill; without it a check times out after `inter` (300 ms), and on a busy machine live
# nodes were marked down and their sockets cut (bench/faults.py saw all three at once).
CHECK_TIMEOUT = "2s"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def haproxy_available() -> bool:
    return shutil.which(HAPROXY) is not None


def serve_command(hostname: str, https_port: int, http_port: int) -> list[str]:
    """`lifeline serve` on loopback, as the cluster's nodes and the tests' appliances run it."""
    return [
        sys.executable,
        "-m",
        "lifeline",
        "serve",
        "--hostname",
        hostname,
        "--https-port",
        str(https_port),
        "--http-port",
        str(http_port),
        "--bind",
        "127.0.0.1",
    ]


class Node:
    """One `lifeline serve` process of the cluster, on its own loopback ports."""

    def __init__(self, index: int, data_dir: Path, env: dict[str, str], hostname: str) -> None:
        self.index = index
        self.name = f"node{index}"
        self.data_dir = data_dir
        self.env = env
        self.hostname = hostname
        self.https_port = free_port()
        self.http_port = free_port()
        self.log_path = data_dir / f"serve-{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                serve_command(self.hostname, self.https_port, self.http_port),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.http}/check_health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")

    def kill(self) -> None:
        """kill -9: no goodbye to its sockets, no flush, no cleanup, as a crash or power loss."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, characters: int = 20000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:] if self.log_path.exists() else ""


def haproxy_maxconn() -> int:
    """As many connections as this machine lets HAProxy open files for: two each (the
    customer's and the node's), with room for its own."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return max(256, min(100_000, (hard - 100) // 2)) if hard != resource.RLIM_INFINITY else 100_000


def haproxy_config(port: int, stats_port: int, nodes: list[Node], maxconn: int = 20000) -> str:
    """The configuration the tests run and docs/install.md shows (with its addresses)."""
    servers = "\n".join(
        f"    server {node.name} 127.0.0.1:{node.https_port} check port {node.http_port}" for node in nodes
    )
    return f"""\
global
    maxconn {maxconn}

defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A node slow to answer its check (a busy machine) is not dead: without this the
    # check's timeout would be `inter`, and a slow node would leave rotation.
    timeout check {CHECK_TIMEOUT}
    # An upgraded WebSocket lives on this one: consoles and clients ping every 20 s.
    timeout tunnel 1h
    timeout client-fin 5s
    # A connection that reaches a dead node before the checks notice goes to another.
    retries 2
    option redispatch

frontend lifeline
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk GET /check_health
    http-check expect status 200
    default-server inter {CHECK_INTERVAL_MS}ms fall {CHECK_FALL} rise {CHECK_RISE}
{servers}

frontend stats
    mode http
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
    timeout client 10s
"""


class Cluster:
    """N nodes on one database and one Redis, with one data directory, behind HAProxy."""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str,
        redis_url: str,
        size: int = 3,
        hostname: str = "support.example.com",
        env: dict[str, str] | None = None,
    ) -> None:
        if not (database_url and redis_url):
            raise ValueError("a cluster needs a PostgreSQL DATABASE_URL and a REDIS_URL")
        self.data_dir = data_dir
        self.database_url = database_url
        self.redis_url = redis_url
        node_env = {
            **os.environ,
            "LIFELINE_DATA_DIR": str(data_dir),
            "LIFELINE_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Every connection comes from HAProxy's address: the per-address limit would bite.
            "LIFELINE_MAX_CONNECTIONS_PER_ADDRESS": "100000",
            **(env or {}),
        }
        self.nodes = [Node(index, data_dir, node_env, hostname) for index in range(size)]
        self.port = free_port()
        self.stats_port = free_port()
        self.config_path = data_dir / "haproxy.cfg"
        self.haproxy_log = data_dir / "haproxy.log"
        self.haproxy: subprocess.Popen[bytes] | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Make the appliance (tables, admin, certificate) here, start every node at once,
        then HAProxy; back when HAProxy has every node in rotation."""
        self.prepare()
        for node in self.nodes:
            node.spawn()
        for node in self.nodes:
            node.wait_healthy()
        self.config_path.write_text(haproxy_config(self.port, self.stats_port, self.nodes, haproxy_maxconn()))
        with self.haproxy_log.open("ab") as log:
            self.haproxy = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(self.config_path)], stdout=log, stderr=subprocess.STDOUT
            )
        for node in self.nodes:
            self.wait_in_rotation(node.index)

    def prepare(self) -> None:
        """What the first `serve` would make, made once before the nodes start together: they
        would otherwise race to migrate the database and each write a certificate of its own."""
        hostname = self.nodes[0].hostname
        config = Config(data_dir=self.data_dir, database_url=normalize_database_url(self.database_url))
        db = open_database(config)
        try:
            with _admin_password(ADMIN_PASSWORD):
                db.call(ensure_appliance, hostname)
            # Links handed out (direct links, key URLs) name HAProxy's port, not a node's.
            db.call(set_setting, "public_https_port", str(self.port))
        finally:
            db.close()
        ensure_certificate(config.tls_dir, hostname)

    def lifeline(self, *args: str) -> str:
        """A `lifeline` subcommand on the cluster's data, as an operator runs it; what it printed."""
        done = subprocess.run(
            [sys.executable, "-m", "lifeline", *args],
            env=self.nodes[0].env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"lifeline {' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def kill(self, index: int) -> float:
        """kill -9 of one node; returns when it died (time.monotonic())."""
        self.nodes[index].kill()
        return time.monotonic()

    def restart(self, index: int, *, wait_in_rotation: bool = True) -> None:
        """Start a stopped or killed node again on its ports."""
        node = self.nodes[index]
        node.kill()
        node.spawn()
        node.wait_healthy()
        if wait_in_rotation:
            self.wait_in_rotation(index)

    def stop(self) -> None:
        if self.haproxy is not None and self.haproxy.poll() is None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait()
        for node in self.nodes:
            node.stop()

    # --- what HAProxy sees ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """HTTPS through HAProxy: where customers, reps and API callers go."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def cert_path(self) -> Path:
        """The nodes' certificate (one, in the shared data directory): trust it to connect."""
        return self.data_dir / "tls" / "appliance.crt"

    def server_stats(self) -> dict[str, dict[str, str]]:
        """HAProxy's view of each node by name: `status` (UP, DOWN ...), `scur` (connections now)."""
        response = httpx.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=5)
        response.raise_for_status()
        rows = csv.DictReader(io.StringIO(response.text.lstrip("# ")))
        return {row["svname"]: row for row in rows if row["pxname"] == "nodes" and row["svname"].startswith("node")}

    def in_rotation(self, index: int) -> bool:
        return self.server_stats()[self.nodes[index].name]["status"].startswith("UP")

    def connections(self) -> dict[int, int]:
        """Connections HAProxy holds open to each node now."""
        stats = self.server_stats()
        return {node.index: int(stats[node.name]["scur"] or 0) for node in self.nodes}

    def wait_in_rotation(self, index: int, timeout: float = 20) -> None:
        self._wait_status(index, True, timeout)

    def wait_out_of_rotation(self, index: int, timeout: float = 10) -> None:
        self._wait_status(index, False, timeout)

    def _wait_status(self, index: int, up: bool, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if self.in_rotation(index) == up:
                    return
            if time.monotonic() > deadline:
                state = "in" if up else "out of"
                raise RuntimeError(f"{self.nodes[index].name} not {state} rotation in {timeout} s")
            if self.haproxy is not None and self.haproxy.poll() is not None:
                raise RuntimeError(f"haproxy exited:\n{self.haproxy_log.read_text(errors='replace')}")
            time.sleep(0.05)


@contextlib.contextmanager
def _admin_password(password: str) -> Iterator[None]:
    """The first admin's password, read from the environment as `serve` reads it."""
    previous = os.environ.get("LIFELINE_ADMIN_PASSWORD")
    os.environ["LIFELINE_ADMIN_PASSWORD"] = password
    try:
        yield
    finally:
        if previous is None:
            del os.environ["LIFELINE_ADMIN_PASSWORD"]
        else:
            os.environ["LIFELINE_ADMIN_PASSWORD"] = previous


@contextlib.contextmanager
def running_cluster(data_dir: Path, *, database_url: str, redis_url: str, size: int = 3) -> Iterator[Cluster]:
    cluster = Cluster(data_dir, database_url=database_url, redis_url=redis_url, size=size)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def create_database(server_url: str) -> str:
    """A new, empty database on the PostgreSQL server at `server_url`; its URL."""
    name = "lifeline_c_" + secrets.token_hex(6)
    admin = create_engine(normalize_database_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(normalize_database_url(server_url)).set(database=name).render_as_string(hide_password=False)


def drop_database(database_url: str) -> None:
    url = make_url(normalize_database_url(database_url))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()
