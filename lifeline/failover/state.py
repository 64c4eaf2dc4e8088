"""This appliance's place in a failover pair.

Kept in `DATA_DIR/failover.json`, not in the database: the backup's database is a copy of
the primary's, and each appliance's role, peer and sync record must survive that copy.
Every process of an appliance reads the same file, so a role change reaches them all.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

Role = Literal["none", "primary", "backup"]
ROLES: tuple[Role, ...] = ("none", "primary", "backup")
FILE_NAME = "failover.json"
# Processes re-read the file at most this often (seconds): a role change is followed
# within this time without a read on every request.
REREAD_SECONDS = 1.0


@dataclass(frozen=True)
class FailoverState:
    """`own_url` and `peer_url`: the public HTTPS origins (https://host[:port]) of this
    appliance and of the other one; clients are told both and follow the primary.
    `last_sync_time` (UNIX seconds) and `last_sync_status` (words) are the backup's last
    data sync, as check_health reports them."""

    role: Role = "none"
    own_url: str | None = None
    peer_url: str | None = None
    last_sync_time: float | None = None
    last_sync_status: str | None = None

    @property
    def configured(self) -> bool:
        return self.role != "none" and self.peer_url is not None

    @property
    def primary_url(self) -> str | None:
        """Where clients and consoles belong: this appliance unless it is the backup."""
        if self.role == "backup":
            return self.peer_url
        return self.own_url

    @property
    def addresses(self) -> list[str]:
        """Both appliances' origins, the primary first: what clients keep to follow it."""
        ordered = [self.primary_url, self.own_url, self.peer_url]
        return list(dict.fromkeys(url for url in ordered if url))


def read_state(data_dir: Path) -> FailoverState:
    """The recorded state; a missing file means no failover (role "none")."""
    try:
        raw = json.loads((data_dir / FILE_NAME).read_text())
    except FileNotFoundError:
        return FailoverState()
    role = raw.get("role", "none")
    return FailoverState(
        role=role if role in ROLES else "none",
        own_url=raw.get("own_url"),
        peer_url=raw.get("peer_url"),
        last_sync_time=raw.get("last_sync_time"),
        last_sync_status=raw.get("last_sync_status"),
    )


def write_state(data_dir: Path, state: FailoverState) -> None:
    """Replace the file atomically (a reader sees the old state or the new, never half)."""
    path = data_dir / FILE_NAME
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(asdict(state), indent=2))
    os.chmod(scratch, 0o600)
    os.replace(scratch, path)


def update_state(data_dir: Path, **changes: object) -> FailoverState:
    state = replace(read_state(data_dir), **changes)  # type: ignore[arg-type]
    write_state(data_dir, state)
    return state


class StateCache:
    """A process's view of the state, re-read at most every REREAD_SECONDS."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._state = read_state(data_dir)
        self._read_at = time.monotonic()

    def get(self) -> FailoverState:
        now = time.monotonic()
        if now - self._read_at >= REREAD_SECONDS:
            self._state = read_state(self.data_dir)
            self._read_at = now
        return self._state
