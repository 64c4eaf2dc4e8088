"""PostgreSQL breaks a deadlock by rolling one transaction back; the writer runs that write
again instead of failing its request (lifeline.db.engine.CONFLICT_RETRIES)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from lifeline.appliance.models import Node
from lifeline.db.engine import Database
from lifeline.presence.actions import register_node

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="SQLite has one writer: no deadlocks")


def test_a_write_rolled_back_to_break_a_deadlock_is_run_again(db: Database) -> None:
    for node in ("node-a", "node-b"):
        db.call(register_node, node, "host")
    tries = {"a then b": 0, "b then a": 0}
    both_hold_one = threading.Barrier(2, timeout=20)
    first_started = threading.Event()

    def touch(session: Session, node: str) -> None:
        session.execute(update(Node).where(Node.id == node).values(hostname=f"touched {node}"))

    def crossing(name: str, first: str, second: str) -> Callable[[Session], str]:
        def write(session: Session) -> str:
            tries[name] += 1
            touch(session, first)
            if tries[name] == 1:  # the first try of each holds its first row until both do
                first_started.set()
                both_hold_one.wait()
            touch(session, second)
            return name

        return write

    async def run() -> list[str]:
        one = asyncio.ensure_future(db.write(crossing("a then b", "node-a", "node-b")))
        # The second goes in only once a writer thread is inside the first, so another
        # writer thread takes it: not the same batch.
        await asyncio.to_thread(first_started.wait, 20)
        two = asyncio.ensure_future(db.write(crossing("b then a", "node-b", "node-a")))
        return list(await asyncio.wait_for(asyncio.gather(one, two), 60))

    assert asyncio.run(run()) == ["a then b", "b then a"]
    assert sorted(tries.values()) == [1, 2]  # PostgreSQL rolled one back; it ran again
