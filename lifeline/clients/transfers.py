"""Where a download from the customer's computer waits until every byte has arrived: a
file in the file store's temporary area (which the store's sweep clears of anything left
there an hour), and the job that drops transfers that stopped moving."""

from __future__ import annotations

import contextlib
from pathlib import Path

from lifeline.clients import actions
from lifeline.db.engine import Database
from lifeline.jobs import Job, Reach
from lifeline.recordings.filestore import INCOMING, FileStore

EXPIRE_EVERY_SECONDS = 60.0


def partial_path(store: FileStore, transfer_id: str) -> Path:
    """The bytes received so far (`transfer_id` is the appliance's own hex name)."""
    if not transfer_id.isalnum() or len(transfer_id) > 64:
        raise ValueError("not a transfer's id")
    return store.root / f"{INCOMING}transfer-{transfer_id}"


def expiry_job(db: Database, store: FileStore) -> Job:
    """Transfers idle for ten minutes fail and their partial files go; any process may do
    it (failing one twice does nothing the second time)."""

    async def expire() -> None:
        for transfer_id in await db.write(actions.expire_idle_transfers):
            with contextlib.suppress(OSError, ValueError):
                partial_path(store, transfer_id).unlink()

    return Job("idle transfer expiry", expire, EXPIRE_EVERY_SECONDS, Reach.SHARED)
