"""Redis restarted under two appliance processes: each reconnects on its own and live
events cross between them again; no process dies and nothing prints a traceback."""

from __future__ import annotations

import time
from pathlib import Path

from bench.services import PrivatePostgres, PrivateRedis
from tests.support.appliance import RunningAppliance
from tests.support.personas import provision
from tests.support.sockets import Console, CustomerClient, sign_in, start_by_issue


def chat_crosses(console: Console, customer: CustomerClient, lsid: str, body: str, heard: set[str]) -> None:
    """The customer's line reaches the console (`heard`: every line the console got)."""
    customer.send({"type": "chat", "ref": body, "body": body})
    while body not in heard:
        message = console.event("Chat Message")
        assert message["lsid"] == lsid
        heard.add(message["event"]["body"])


def test_it_carries_live_events_between_processes_again_after_redis_restarts(
    tmp_path: Path, redis_server: PrivateRedis, postgres_server: PrivatePostgres
) -> None:
    first = RunningAppliance(tmp_path, database_server=postgres_server.url, env={"REDIS_URL": redis_server.url})
    second = RunningAppliance(tmp_path, database=first.database, env={"REDIS_URL": redis_server.url})
    second.log_path = tmp_path / "serve-second.log"
    try:
        first.start()
        second.start()
        people = provision(first)
        console = Console(first, sign_in(first, "rep_a", people.rep_a.password))
        customer = CustomerClient(second, token=start_by_issue(second, "Pat Restart", id=str(people.issue_started)))
        lsid = customer.welcome["session"]["lsid"]
        console.send({"type": "take", "ref": "take", "lsid": lsid})
        assert console.ack("take")["ok"]
        heard: set[str] = set()
        chat_crosses(console, customer, lsid, "before the restart", heard)

        redis_server.restart(down_seconds=1.0)

        # Chat sent while the bus reconnects is stored (acknowledged) at once; the console gets it
        # once both processes are back on Redis (published late, or read afresh by the hub),
        # without either socket reconnecting.
        customer.send({"type": "chat", "ref": "during", "body": "while Redis came back"})
        assert customer.ack("during")["ok"]
        deadline = time.monotonic() + 10
        while True:
            try:
                chat_crosses(console, customer, lsid, f"after the restart {time.monotonic():.0f}", heard)
                break
            except TimeoutError:
                assert time.monotonic() < deadline, "live events never crossed again"
        assert "while Redis came back" in heard
        assert first.process is not None and first.process.poll() is None
        assert second.process is not None and second.process.poll() is None
        for appliance in (first, second):
            log = appliance.log_tail(200_000)
            assert "Traceback" not in log, log
        assert "listening to Redis again" in first.log_tail(200_000)
        console.close()
        customer.close()
    finally:
        second.close()
        first.close()
