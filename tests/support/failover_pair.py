"""Two appliances as a failover pair (issue 17), for the tests of clients and consoles that
follow the primary: SQLite, separate data directories, roles written to failover.json by
the test. B, the backup, starts from a copy of A's database and serves A's certificate (what
the backup's sync and docs/decisions.md "Following the primary" give a real pair)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

import pytest

from lifeline.failover.state import FailoverState, write_state
from tests.support.appliance import RunningAppliance
from tests.support.engine import ConsoleNode
from tests.support.sockets import start_by_issue

T = TypeVar("T")
Origin = Callable[[RunningAppliance], str]


def https_origin(appliance: RunningAppliance) -> str:
    return appliance.https


class Pair(Generic[T]):
    def __init__(self, a: RunningAppliance, b: RunningAppliance, origin: Origin, prepared: T) -> None:
        self.a, self.b, self.origin, self.prepared = a, b, origin, prepared

    def sync_and_swap(self) -> None:
        """A planned swap with data_sync_first, by hand: B takes A's data as it is now (B
        restarted on it), then B is the primary and A the backup."""
        self.b.stop()
        for name in ("lifeline.db", "lifeline.db-wal", "lifeline.db-shm"):
            (self.b.data_dir / name).unlink(missing_ok=True)
        copy_data(self.a, self.b)
        self.b.start()
        self.roles(primary=self.b, backup=self.a)

    def forced_takeover(self, *, dead: RunningAppliance, survivor: RunningAppliance) -> None:
        """The primary stops answering and the backup takes over (`force`)."""
        dead.stop()
        own, peer = self.origin(survivor), self.origin(dead)
        write_state(survivor.data_dir, FailoverState(role="primary", own_url=own, peer_url=peer))

    def roles(self, *, primary: RunningAppliance, backup: RunningAppliance) -> None:
        """What `set_failover_role` records on each side (here written by hand)."""
        own, peer = self.origin(primary), self.origin(backup)
        write_state(primary.data_dir, FailoverState(role="primary", own_url=own, peer_url=peer))
        write_state(backup.data_dir, FailoverState(role="backup", own_url=peer, peer_url=own))


def copy_data(source: RunningAppliance, target: RunningAppliance) -> None:
    """What the backup's sync gives it: the primary's data (SQLite's online backup) and,
    by the pair's setup, its certificate."""
    target.data_dir.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source.data_dir / "lifeline.db")) as old,
        contextlib.closing(sqlite3.connect(target.data_dir / "lifeline.db")) as new,
    ):
        old.backup(new)
    shutil.copytree(source.data_dir / "tls", target.data_dir / "tls", dirs_exist_ok=True)


@contextlib.contextmanager
def failover_pair(
    root: Path, prepare: Callable[[RunningAppliance], T], origin: Origin = https_origin
) -> Iterator[Pair[T]]:
    """A primary and its backup: `prepare` runs on A (the primary) before B gets its data."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("two appliances with their own SQLite data (on PostgreSQL the pair shares or replicates one)")
    a, b = RunningAppliance(root / "a"), RunningAppliance(root / "b")
    pair: Pair[T] | None = None
    try:
        a.data_dir.mkdir(parents=True)
        write_state(a.data_dir, FailoverState(role="primary", own_url=origin(a), peer_url=origin(b)))
        a.start()
        prepared = prepare(a)
        copy_data(a, b)
        pair = Pair(a, b, origin, prepared)
        write_state(b.data_dir, FailoverState(role="backup", own_url=origin(b), peer_url=origin(a)))
        b.start()
        yield pair
    finally:
        b.close()
        a.close()


def waiting_session(appliance: RunningAppliance, rep: str = "rep_b") -> str:
    """A session started on the primary through its issue form (with `rep` on duty for the
    moment); its customer token. Made on the primary itself: the backup's copy of the
    primary's connections ends when their process stops heartbeating there."""
    node = ConsoleNode(appliance.db)
    try:
        node.log_in(rep)
        return start_by_issue(appliance, "Tess")
    finally:
        node.close()
