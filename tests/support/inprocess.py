"""The real application served by uvicorn on a loopback port from a thread of the test
process, so a test can watch what it does to the database."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn

from lifeline.app import build_app
from lifeline.appliance.settings import set_setting
from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config, normalize_database_url
from lifeline.db.engine import Database
from lifeline.runtime import Ports, Runtime
from tests.support.appliance import ScratchDatabase, free_port


class InProcessAppliance:
    def __init__(self, db: Database, port: int) -> None:
        self.db = db
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def inprocess_appliance(tmp_path: Path) -> Iterator[InProcessAppliance]:
    database = ScratchDatabase(tmp_path)
    url = normalize_database_url(database.url) if database.url else ""
    db = open_database(Config(data_dir=tmp_path / "data", database_url=url))
    db.call(ensure_appliance, "support.example.com")
    db.call(set_setting, "xml_api_allow_http", "true")
    port = free_port()
    runtime = Runtime(Config(data_dir=tmp_path / "data"), db, ports=Ports(https=None, http=port))
    server = uvicorn.Server(
        uvicorn.Config(build_app(runtime), host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the in-process appliance did not start")
        time.sleep(0.02)
    try:
        yield InProcessAppliance(db, port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        db.close()
        database.drop()


def get(appliance: InProcessAppliance, path: str, **params: str) -> httpx.Response:
    return httpx.get(appliance.base_url + path, params=params, timeout=10)
