"""generate_session_key under load, then a kill -9 of the appliance: every key that was
answered is still there after the restart, and keys asked for together fail only alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from lifeline.sessions.keys import KeyState, find_key
from lifeline.sessions.models import SessionKey
from tests.support.appliance import RunningAppliance, running_appliance
from tests.support.command import NS_LATER, CommandApi, error_of
from tests.support.xmlcheck import text_of

CALLERS = 8
AUTH = {"username": "ticketing", "password": "a-long-ticketing-password"}


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[RunningAppliance]:
    """An appliance of this test's own: it is killed."""
    with running_appliance(tmp_path / "killed") as running:
        running.cli("user", "add", "ticketing", "--password", AUTH["password"], "--command-api", "--support")
        running.cli_settled("settings", "set", "xml_api_allow_http", "true")
        yield running


def ask_for_key(client: httpx.Client, queue_id: str = "general") -> httpx.Response:
    return client.get(
        "/api/command", params={**AUTH, "action": "generate_session_key", "type": "support", "queue_id": queue_id}
    )


def key_or_error(root: etree._Element) -> tuple[str, str] | str:
    """(short key, key URL) of the key answered, or the error."""
    error = error_of(root)
    if error is not None:
        return error
    return text_of(root, NS_LATER, "short_key"), text_of(root, NS_LATER, "key_url")


def test_every_answered_key_survives_a_kill_of_the_appliance(appliance: RunningAppliance) -> None:
    answered: list[tuple[str, str]] = []
    refused: list[str] = []
    killed = threading.Event()

    def caller() -> None:
        with httpx.Client(base_url=appliance.http, timeout=10) as client:
            while not killed.is_set():
                try:
                    key = key_or_error(etree.fromstring(ask_for_key(client).content))
                except httpx.HTTPError:
                    return  # the appliance is gone: this ask got no answer
                if isinstance(key, str):
                    refused.append(key)
                    return
                answered.append(key)

    threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(answered) < 200 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert appliance.process is not None
    appliance.process.kill()  # kill -9, mid-load: asks are in flight
    appliance.process.wait()
    killed.set()
    for thread in threads:
        thread.join()
    assert not refused, (refused, appliance.log_tail(4000))
    assert len(answered) >= 200, "too few keys answered before the kill to say anything"

    appliance.start()
    url_keys = {key_url.rpartition("ak=")[2]: short_key for short_key, key_url in answered}

    def stored(session: Session) -> dict[str, str]:
        rows = session.execute(select(SessionKey.url_key, SessionKey.short_key).where(SessionKey.url_key.in_(url_keys)))
        return {row.url_key: row.short_key for row in rows}

    assert appliance.call(stored) == url_keys
    # A customer can start with them: the last one answered is usable by its code.
    state, _ = appliance.call(lambda session: find_key(session, short_key=answered[-1][0]))
    assert state is KeyState.USABLE


def test_keys_asked_for_together_fail_only_alone(appliance: RunningAppliance) -> None:
    queues = ["general", "team:999999", "issue:nope", "general"] * 8
    with httpx.Client(base_url=appliance.http, timeout=10) as client, ThreadPoolExecutor(len(queues)) as pool:
        ask_for_key(client)  # signs in once: the credential is verified before the crowd arrives
        responses = list(pool.map(lambda queue_id: ask_for_key(client, queue_id), queues))
        checks = CommandApi(client).schemas
        outcomes = [key_or_error(checks.check(response, NS_LATER)) for response in responses]
    for queue_id, outcome in zip(queues, outcomes, strict=True):
        if queue_id == "general":
            assert isinstance(outcome, tuple), outcome
        else:
            assert isinstance(outcome, str) and outcome.startswith("No "), outcome
    short_keys = [outcome[0] for outcome in outcomes if isinstance(outcome, tuple)]
    assert len(set(short_keys)) == len(short_keys) == 16
