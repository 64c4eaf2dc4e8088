"""How long a customer connection made over HTTP waits for its client: 2 minutes when the
browser was sent there, 10 when the customer got a launcher to download and run first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from lifeline.presence.actions import DOWNLOAD_GRACE_SECONDS
from lifeline.presence.models import ClientConnection, ClientInfo
from lifeline.realtime import hub as hub_module
from lifeline.realtime.hub import DETACH_GRACE_SECONDS, Hub
from lifeline.runtime import Runtime
from lifeline.sessions.starting import CustomerStart, Started, begin
from tests.support.engine import ConsoleNode


@pytest.fixture(autouse=True)
def someone_on_duty(runtime: Runtime) -> Iterator[None]:
    """Or the general queue takes no one (the runtime: tests/realtime/conftest.py)."""
    node = ConsoleNode(runtime.db)
    node.log_in("admin")
    yield
    node.close()


def arrive(runtime: Runtime) -> int:
    start = CustomerStart(public_site_id=1, client=ClientInfo(platform="web"), issue_menu=True)
    started = runtime.db.call(begin, start, node_id=runtime.node_id)
    assert isinstance(started, Started)
    return started.gsnumber


def still_open(runtime: Runtime, gsnumber: int) -> bool:
    def read(session: Session) -> bool:
        connection = session.get(ClientConnection, gsnumber)
        return connection is not None and connection.disconnected_at is None

    return runtime.db.call(read)


def test_a_downloads_customer_gets_longer_to_arrive(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = Hub(runtime)
    browser, download = arrive(runtime), arrive(runtime)
    hub.expect(browser)
    hub.expect(download, grace=DOWNLOAD_GRACE_SECONDS)
    now = time.monotonic()

    def after(seconds: float) -> tuple[bool, bool]:
        monkeypatch.setattr(hub_module.time, "monotonic", lambda: now + seconds)
        asyncio.run(hub.expire_detached())
        return still_open(runtime, browser), still_open(runtime, download)

    assert after(DETACH_GRACE_SECONDS - 5) == (True, True)
    assert after(DETACH_GRACE_SECONDS + 5) == (False, True)
    assert after(DOWNLOAD_GRACE_SECONDS + 5) == (False, False)
