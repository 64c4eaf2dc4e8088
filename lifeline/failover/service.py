"""An appliance's part in a failover pair while it runs: the backup's periodic sync and
its watch on the primary, role changes asked for through the Command API, and what the
peer asks of it over the pair's signed channel (`lifeline.api.failover`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from lifeline.config import Config
from lifeline.failover.channel import Peer, PeerUnreachable
from lifeline.failover.pairing import Pairing, read_pairing, update_pairing
from lifeline.failover.state import FailoverState, Role, StateCache, read_state, update_state
from lifeline.failover.sync import SyncBusy, Synced, installed_marker, sync_once

log = logging.getLogger("lifeline.failover")

TICK_SECONDS = 0.5
# How often a primary asks whether its peer became the primary while it was away.
PRIMARY_CHECK_SECONDS = 2.0
# The peer's answer to "who are you" for get_appliances and the backup's watch.
STATUS_TIMEOUT_SECONDS = 3.0

NOT_CONFIGURED = "Failover is not configured on this appliance"
STARTED_SYNC = "Successfully started data sync. Role change will occur upon successful completion."
CHANGED_ROLE = "Successfully changed role."


class FailoverError(Exception):
    """Why a role change cannot be made, in the help desk's words."""


def backup_refusal(state: FailoverState) -> str | None:
    """What a write on the backup answers (it takes no sessions and no changes)."""
    if state.role != "backup":
        return None
    return f"This appliance is the backup; use the primary, {state.peer_url}"


class Failover:
    def __init__(self, config: Config, installed: Callable[[], None]) -> None:
        self.config = config
        self.data_dir = config.data_dir
        self.cache = StateCache(config.data_dir)
        self._installed = installed
        self._sync_lock = asyncio.Lock()
        self._last_attempt = 0.0
        self._last_primary_check = 0.0
        self._primary_seen = time.monotonic()
        self._changing: asyncio.Task[None] | None = None

    # --- what the process reads ---------------------------------------------------------

    def state(self) -> FailoverState:
        return self.cache.get()

    def refusal(self) -> str | None:
        return backup_refusal(self.state())

    def pairing(self) -> Pairing | None:
        return read_pairing(self.data_dir)

    def _peer(self) -> Peer:
        state, pairing = read_state(self.data_dir), self.pairing()
        if pairing is None or not state.configured or state.peer_url is None:
            raise FailoverError(NOT_CONFIGURED)
        return Peer.of(self.data_dir, state.peer_url, pairing)

    def status(self) -> dict[str, Any]:
        """What this appliance tells its peer about itself."""
        state, pairing = read_state(self.data_dir), self.pairing()
        return {
            "appliance_id": pairing.appliance_id if pairing else None,
            "role": state.role,
            "url": state.own_url,
            "last_sync_time": state.last_sync_time,
            "last_sync_status": state.last_sync_status,
            "primary_since": pairing.primary_since if pairing else 0.0,
        }

    async def peer_status(self) -> dict[str, Any] | None:
        """The peer's own status, or None when it does not answer."""
        try:
            peer = self._peer()
            answer = await asyncio.to_thread(peer.json, "GET", "/failover/status", timeout=STATUS_TIMEOUT_SECONDS)
        except (PeerUnreachable, FailoverError):
            return None
        if isinstance(answer, dict) and answer.get("appliance_id"):
            pairing = self.pairing()
            if pairing is not None and pairing.peer_appliance_id != answer["appliance_id"]:
                update_pairing(self.data_dir, peer_appliance_id=str(answer["appliance_id"]))
        return answer if isinstance(answer, dict) else None

    # --- role changes ------------------------------------------------------------------

    def _become(self, role: Role, why: str) -> None:
        if role == "backup":
            # This appliance's data moves on without the copy: the next sync installs anew.
            installed_marker(self.config).unlink(missing_ok=True)
        if role == "primary":
            update_pairing(self.data_dir, primary_since=time.time())
        update_state(self.data_dir, role=role)
        self.cache = StateCache(self.data_dir)
        log.warning("failover: this appliance is now the %s (%s)", role, why)

    async def _tell_peer(self, payload: dict[str, Any]) -> dict[str, Any]:
        peer = self._peer()
        answer = await asyncio.to_thread(peer.json, "POST", "/failover/peer", payload)
        return answer if isinstance(answer, dict) else {}

    async def set_role(self, role: Role, *, data_sync_first: bool, force: bool) -> str:
        """set_failover_role: the answer's text, or FailoverError."""
        state = read_state(self.data_dir)
        if not state.configured or self.pairing() is None:
            raise FailoverError(NOT_CONFIGURED)
        if state.role == role:
            raise FailoverError(f"This appliance is already the {role}")
        if self._changing is not None and not self._changing.done():
            raise FailoverError("A role change with a data sync first is under way; try again when it ends")
        if role == "primary":
            return await self._take_over(data_sync_first=data_sync_first, force=force)
        # primary -> backup: the peer takes over (it tells this appliance when to step down).
        try:
            answer = await self._tell_peer({"action": "take_over", "data_sync_first": data_sync_first})
        except PeerUnreachable as error:
            if not force:
                raise FailoverError(f"{error}; set force=1 to become the backup anyway") from None
            self._become("backup", "asked to, the peer not answering")
            return CHANGED_ROLE
        if answer.get("started"):
            return STARTED_SYNC
        if read_state(self.data_dir).role != "backup":
            self._become("backup", "the peer is the primary")
        return CHANGED_ROLE

    async def _take_over(self, *, data_sync_first: bool, force: bool) -> str:
        if data_sync_first:
            if await self.peer_status() is None:
                if not force:
                    raise FailoverError(
                        f"The primary at {read_state(self.data_dir).peer_url} is not answering, so there is "
                        "nothing to sync from; set force=1 to take over with the data of the last sync"
                    )
                self._become("primary", "forced; the primary was not answering")
                return CHANGED_ROLE
            self._changing = asyncio.create_task(self._sync_then_take_over())
            return STARTED_SYNC
        try:
            await self._tell_peer({"action": "become_backup"})
        except PeerUnreachable as error:
            if not force:
                raise FailoverError(f"{error}; set force=1 to take over without it") from None
        self._become("primary", "taken over")
        return CHANGED_ROLE

    async def _sync_then_take_over(self) -> None:
        """Sync while the primary still serves, stop it (it becomes the backup), sync the
        little that came in meanwhile, then serve. If that last sync fails the peer is
        asked to be the primary again: no acknowledged change is left behind."""
        if not await self.sync_now():
            return
        try:
            await self._tell_peer({"action": "become_backup"})
        except PeerUnreachable as error:
            log.warning("failover: role change abandoned: %s", error)
            update_state(self.data_dir, last_sync_status=f"Role change abandoned: {error}")
            return
        if not await self.sync_now():
            try:
                await self._tell_peer({"action": "become_primary"})
            except PeerUnreachable as error:
                log.error(
                    "failover: the peer stepped down but the last sync failed and it cannot be restored: %s", error
                )
            return
        self._become("primary", "planned role change after a data sync")

    async def from_peer(self, request: dict[str, Any]) -> dict[str, Any]:
        """What the peer asks (already authenticated)."""
        action = request.get("action")
        state = read_state(self.data_dir)
        if action == "become_backup":
            if state.role != "backup":
                self._become("backup", "the peer took over")
        elif action == "become_primary":
            if state.role != "primary":
                self._become("primary", "the peer handed the role back")
        elif action == "take_over":
            if state.role == "backup":
                if request.get("data_sync_first"):
                    if self._changing is None or self._changing.done():
                        self._changing = asyncio.create_task(self._sync_then_take_over())
                    return {**self.status(), "started": True}
                await self._take_over(data_sync_first=False, force=False)
        elif action == "synced":
            moment, status = request.get("time"), request.get("status")
            if not isinstance(moment, (int, float)) or not isinstance(status, str):
                raise FailoverError("a sync report needs its time and status")
            update_state(self.data_dir, last_sync_time=float(moment), last_sync_status=status[:1000])
        else:
            raise FailoverError(f"unknown failover request {action!r}")
        return self.status()

    # --- the backup's sync and watch ---------------------------------------------------

    async def _check_two_primaries(self, pairing: Pairing) -> None:
        """A primary that was away (stopped, cut off) while its backup was made the primary
        finds two primaries on its return: the one that became primary last keeps the role."""
        peer = await self.peer_status()
        if peer is None or peer.get("role") != "primary":
            return
        if float(peer.get("primary_since") or 0.0) > pairing.primary_since:
            self._become("backup", "the peer became the primary while this appliance was away")
            update_state(
                self.data_dir, last_sync_status="Became the backup: the peer took over while this appliance was away"
            )

    async def sync_now(self) -> bool:
        """One sync from the peer, recorded in the state; False when it failed."""
        async with self._sync_lock:
            try:
                peer = self._peer()
                synced: Synced = await asyncio.to_thread(sync_once, self.config, peer, self._installed)
            except SyncBusy:
                return True  # another process of this appliance does this round and records it
            except Exception as error:  # recorded for check_health; the next round tries again
                status = f"Failed: {error}" if str(error) else f"Failed: {type(error).__name__}"
                update_state(self.data_dir, last_sync_status=status)
                log.warning("failover: data sync failed: %s", status)
                return False
            now = time.time()
            update_state(self.data_dir, last_sync_time=now, last_sync_status=synced.status)
            # If the primary does not hear of it, only its check_health misses this sync.
            with contextlib.suppress(PeerUnreachable):
                await self._tell_peer({"action": "synced", "time": now, "status": synced.status})
            return True

    def _primary_check_due(self) -> bool:
        """Whether PRIMARY_CHECK_SECONDS passed since the primary last asked its peer."""
        now = time.monotonic()
        if now - self._last_primary_check < PRIMARY_CHECK_SECONDS:
            return False
        self._last_primary_check = now
        return True

    async def at_start(self) -> None:
        """Before the process serves: a primary whose peer took over while it was away steps
        down now. Left to the first tick, it would answer as the primary for a moment and
        take sessions the next sync would overwrite."""
        state, pairing = read_state(self.data_dir), self.pairing()
        if state.role == "primary" and pairing is not None and state.configured:
            await self._check_two_primaries(pairing)

    async def tick(self) -> None:
        """A round of the pair's job: on the backup, sync when due and take over when the
        primary is gone; on the primary, step down if the peer took over meanwhile."""
        state, pairing = read_state(self.data_dir), self.pairing()
        if state.role == "primary" and pairing is not None and state.configured and self._primary_check_due():
            await self._check_two_primaries(pairing)
        if state.role != "backup" or pairing is None or not state.configured:
            self._primary_seen = time.monotonic()
            return
        if self._changing is not None and not self._changing.done():
            return
        now = time.monotonic()
        due = now - self._last_attempt >= pairing.sync_interval
        if not due and pairing.takeover_after <= 0:
            return
        peer = await self.peer_status()
        if peer is None:
            silent = now - self._primary_seen
            if 0 < pairing.takeover_after <= silent:
                self._become("primary", f"the primary did not answer for {silent:.0f} s")
                update_state(
                    self.data_dir,
                    last_sync_status=f"Took over: the primary at {state.peer_url} did not answer for {silent:.0f} s",
                )
            return
        self._primary_seen = now
        if due and peer.get("role") == "primary":
            self._last_attempt = now
            await self.sync_now()
