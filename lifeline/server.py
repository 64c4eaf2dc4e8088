"""Running the appliance: one process serving HTTPS and HTTP on the same application."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn

from lifeline.app import build_app
from lifeline.appliance.tls import ensure_certificate
from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config
from lifeline.db.engine import Database
from lifeline.db.outage import log_outages_in_one_line
from lifeline.directory.queries import DirectorySnapshot, load_directory
from lifeline.heap import Heap
from lifeline.listeners import ConnectionLimits, connection_cap, guarded_protocols
from lifeline.runtime import Ports, Runtime

log = logging.getLogger("lifeline")

# TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only, no CBC. TLS 1.3 offers only AEAD suites anyway.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


@dataclass(frozen=True)
class ServeOptions:
    hostname: str | None
    https_port: int
    http_port: int  # 0: no plain HTTP listener
    bind: str
    access_log: bool = False


class _Follower(uvicorn.Server):
    """The second listener: the first one owns the signals and the application's lifespan."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve_both(primary: uvicorn.Server, follower: uvicorn.Server | None, heap: Heap) -> None:
    async def follow() -> None:
        while not primary.should_exit:
            await asyncio.sleep(0.1)
        if follower is not None:
            follower.should_exit = True

    tasks = [asyncio.create_task(primary.serve())]
    while not primary.started and not primary.should_exit and not tasks[0].done():
        await asyncio.sleep(0.05)
    # Started: the application, its caches and jobs are built and live as long as the process;
    # no full collection needs to walk them again (see lifeline.heap).
    heap.settle()
    tasks.append(asyncio.create_task(heap.keep(lambda: not primary.should_exit)))
    if follower is not None:
        # Start the plain listener once the application has started under the primary.
        tasks += [asyncio.create_task(follower.serve()), asyncio.create_task(follow())]
    try:
        await asyncio.gather(*tasks)
    finally:
        heap.release()


# The database writer gives up the interpreter lock for every statement SQLite runs, and
# then waits for it until the event loop's thread is made to let go: 5 ms by default,
# measured as statements "taking" 5.2 and 10.3 ms while the loop was busy. At 0.5 ms the
# writer, which every chat line waits for, is held up a tenth as long.
SWITCH_INTERVAL_SECONDS = 0.0005


def serve(config: Config, options: ServeOptions) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # `kill -USR1 <pid>` writes every thread's stack to standard error (the log): what a
    # process that stopped answering is waiting on, without stopping it.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    db = open_database(config)
    first = db.call(ensure_appliance, options.hostname)
    if first.admin_password:
        print(
            "Created the admin account. Its password, shown only this once:\n"
            f"    admin / {first.admin_password}\n"
            "Set LIFELINE_ADMIN_PASSWORD before the first start to choose it yourself.",
            file=sys.stderr,
            flush=True,
        )
    hostname = options.hostname or _primary_hostname(db)
    cert, key = ensure_certificate(config.tls_dir, hostname)
    runtime = Runtime(config, db, ports=Ports(https=options.https_port, http=options.http_port or None))
    app = build_app(runtime)
    limits = ConnectionLimits(config.limits, connection_cap(config.limits))
    log.info(
        "connection limits: %d in all, %d of them plain HTTP, %d per address; request headers within %d s",
        limits.total, limits.plain_total, limits.per_address, limits.header_seconds,
    )  # fmt: skip
    http_protocol, ws_protocol = guarded_protocols(limits)
    common = {
        "host": options.bind,
        "access_log": options.access_log,
        # uvicorn logs every WebSocket opening at info; with thousands of customers that is noise.
        "log_level": "info" if options.access_log else "warning",
        "proxy_headers": False,
        "http": http_protocol,
        "ws": ws_protocol,
        "timeout_keep_alive": config.limits.idle_seconds,
        "server_header": False,
        "ws_max_size": 1024 * 1024,
        # A silent loss (a laptop closed) is noticed by the ping going unanswered.
        "ws_ping_interval": config.limits.ping_seconds,
        "ws_ping_timeout": config.limits.ping_seconds,
        # Chat frames are small; a deflate context per socket would cost far more memory
        # (tens of KB each) than it saves in bandwidth.
        "ws_per_message_deflate": False,
    }
    primary = uvicorn.Server(
        uvicorn.Config(
            app,
            port=options.https_port,
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            ssl_ciphers=TLS12_CIPHERS,
            lifespan="on",
            **common,  # type: ignore[arg-type]
        )
    )
    follower = None
    if options.http_port:
        follower = _Follower(uvicorn.Config(app, port=options.http_port, lifespan="off", **common))  # type: ignore[arg-type]
    log_outages_in_one_line()  # after uvicorn.Config, which sets up uvicorn's own handlers
    print(f"Lifeline is serving https://{hostname}:{options.https_port}/", file=sys.stderr, flush=True)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(_serve_both(primary, follower, Heap()))
    finally:
        db.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    # Memory: each TLS connection reads into a 256 KiB buffer (uvloop's fixed size, and
    # asyncio's SSLProtocol.max_size) and OpenSSL's incoming memory BIO keeps its largest
    # fill; both stay resident for the connection's life once a big message (a Lifeline
    # client's system information) filled them: about 350 KB per such idle connection.
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency, but not on every platform
        return None
    return uvloop.new_event_loop


def _primary_hostname(db: Database) -> str:
    directory: DirectorySnapshot = db.call(load_directory)
    return directory.default_site.primary_hostname
