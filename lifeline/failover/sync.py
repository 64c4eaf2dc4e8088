"""One data sync of the backup from the primary: the database (on the embedded SQLite),
then the file store and recordings. Runs in a worker thread; blocking by design."""

from __future__ import annotations

import fcntl
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lifeline.config import Config
from lifeline.failover import files, snapshot
from lifeline.failover.channel import Peer

# A big database takes a while to snapshot, hash and send; the peer's first bytes may be slow.
DATABASE_TIMEOUT_SECONDS = 300.0
POSTGRESQL_NOTE = "the database is PostgreSQL, shared or replicated as deployed"


@dataclass(frozen=True)
class Synced:
    seconds: float
    chunks_sent: int
    chunks_total: int
    files: int
    bytes: int
    database_copied: bool
    # Seconds in each part: fetching and checking the database copy, the files, installing it.
    phases: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def status(self) -> str:
        database = (
            f"database {self.chunks_sent} of {self.chunks_total} pages changed"
            if self.database_copied
            else POSTGRESQL_NOTE
        )
        fetch, copying, install = self.phases
        return (
            f"Success: {database}; {self.files} files ({self.bytes} bytes) copied; took {self.seconds:.2f} s "
            f"(database {fetch:.2f} s, files {copying:.2f} s, install {install:.2f} s)"
        )


def replica_dir(config: Config) -> Path:
    return config.data_dir / "failover"


def installed_marker(config: Config) -> Path:
    return replica_dir(config) / "installed.sha256"


class SyncBusy(Exception):
    """Another process of this appliance is syncing (several share a data directory)."""


def sync_once(config: Config, peer: Peer, installed: Callable[[], None]) -> Synced:
    folder = replica_dir(config)
    folder.mkdir(mode=0o700, exist_ok=True)
    with (folder / "sync.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncBusy from None
        return _sync_locked(config, peer, installed)


def _sync_locked(config: Config, peer: Peer, installed: Callable[[], None]) -> Synced:
    """Copy what changed on the primary. `installed` runs after new data reached this
    appliance's database (its caches then read it again). Raises on any failure; what was
    copied before stays (the database copy is replaced only whole and checked)."""
    started = time.monotonic()
    applied: snapshot.Applied | None = None
    folder = replica_dir(config)
    replica = folder / "replica.db"
    if config.is_sqlite:
        staging = folder / "replica.staging"
        try:
            hashes = snapshot.cached_hashes(replica)
            with peer.open("POST", "/failover/sync/database", hashes, timeout=DATABASE_TIMEOUT_SECONDS) as answer:
                applied = snapshot.apply_chunks(replica, answer, staging, hashes)
            os.replace(staging, replica)
            snapshot.keep_hashes(replica, applied.hashes)
        finally:
            staging.unlink(missing_ok=True)
    fetched = time.monotonic()
    # The files after the database snapshot: every file its rows name is there by then.
    copied = files.FilesCopied()
    theirs = peer.json("GET", "/failover/sync/files")
    for name, offset in files.wanted(config, {str(k): int(v) for k, v in theirs.items()}).items():
        target = "/failover/sync/file?" + urllib.parse.urlencode({"name": name, "offset": offset})
        with peer.open("GET", target) as answer:
            copied.bytes += files.append(config, name, offset, answer)
        copied.files += 1
    files_done = time.monotonic()
    if applied is not None:
        marker = installed_marker(config)
        digest = applied.sha256
        if not marker.exists() or marker.read_text() != digest:
            snapshot.install(replica, config.sqlite_file)
            marker.write_text(digest)
            installed()
    return Synced(
        seconds=time.monotonic() - started,
        chunks_sent=applied.chunks_sent if applied else 0,
        chunks_total=applied.chunks_total if applied else 0,
        files=copied.files,
        bytes=copied.bytes,
        database_copied=applied is not None,
        phases=(fetched - started, files_done - fetched, time.monotonic() - files_done),
    )
