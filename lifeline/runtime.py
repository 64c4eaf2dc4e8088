"""What one appliance process holds while it runs: the database, its node identity,
what it caches, and the background jobs that keep the caches and presence honest and
write the scheduled backup."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from lifeline.appliance import stamps
from lifeline.appliance.settings import APPLIANCE_ID, load_settings
from lifeline.appliance.stamps import StampBumped
from lifeline.backup.scheduler import BackupScheduler
from lifeline.bus import Bus, InProcessBus
from lifeline.bus.redis import RedisBus
from lifeline.clients import transfers
from lifeline.config import Config
from lifeline.db.engine import Database
from lifeline.directory.queries import DirectorySnapshot, load_directory
from lifeline.failover.service import TICK_SECONDS, Failover
from lifeline.jobs import Job, Jobs, Reach
from lifeline.jump import actions as jump
from lifeline.limits import FailureLimit
from lifeline.presence import actions as presence
from lifeline.recordings.filestore import FileStore
from lifeline.sessions import connections, duty
from lifeline.sessions.duty import LoggedInRep, OnDuty
from lifeline.sessions.queries import referenced_files

T = TypeVar("T")

log = logging.getLogger("lifeline")

STAMP_POLL_SECONDS = 0.5
# Failed sign-ins per client address, at every door (the XML APIs, /login, /console/login,
# /oauth2/token): more than people mistyping, fewer than a password sprayer needs.
ADDRESS_SIGN_IN_FAILURES = 30
ADDRESS_SIGN_IN_WINDOW_SECONDS = 300
HEARTBEAT_SECONDS = 5.0
SWEEP_SECONDS = 10.0
# Files no session references are removed once this old (no write in flight waits that
# long to commit), at start and then at this interval.
ORPHAN_FILE_SECONDS = 3600.0


@dataclass(frozen=True)
class Ports:
    https: int | None
    http: int | None


class Generations:
    """Local counters, one per stamp, that move whenever the data behind a cache may have changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(stamps.ALL, 0)

    def bump(self, name: str) -> None:
        with self._lock:
            self._values[name] += 1

    def __getitem__(self, name: str) -> int:
        return self._values[name]


class Snapshot(Generic[T]):
    """A read of the database kept until one of the stamps it depends on moves."""

    def __init__(self, depends_on: tuple[str, ...], load: Callable[[Session], T]) -> None:
        self.depends_on = depends_on
        self.load = load
        self._value: T | None = None
        self._key: tuple[int, ...] | None = None

    def key(self, runtime: Runtime) -> tuple[int, ...]:
        return tuple(runtime.generations[name] for name in self.depends_on)

    async def get(self, runtime: Runtime) -> T:
        key = self.key(runtime)
        if self._value is None or key != self._key:
            value = await runtime.db.read(self.load)
            # Keep it only if nothing moved while we read; otherwise the next call reads again.
            if key == self.key(runtime):
                self._value, self._key = value, key
            return value
        return self._value


class Runtime:
    def __init__(self, config: Config, db: Database, *, ports: Ports, bus: Bus | None = None) -> None:
        self.config = config
        self.db = db
        self.ports = ports
        self.node_id = uuid.uuid4().hex
        self.hostname = socket.gethostname()
        self.generations = Generations()
        self.bus = bus or (RedisBus(config.redis_url) if config.redis_url else InProcessBus())
        self._db_stamps: dict[str, int] = {}
        self._settings_cache: Snapshot[dict[str, Any]] = Snapshot((stamps.SETTINGS,), load_settings)
        self._directory_cache: Snapshot[DirectorySnapshot] = Snapshot((stamps.DIRECTORY,), load_directory)
        self._reps_cache: Snapshot[list[LoggedInRep]] = Snapshot(
            (stamps.DIRECTORY, stamps.PRESENCE), duty.logged_in_reps
        )
        self._duty_cache: Snapshot[OnDuty] = Snapshot((stamps.DIRECTORY, stamps.PRESENCE), duty.on_duty)
        # In this process's memory; the waits per name and address are in the database (directory.logins).
        self.sign_in_failures = FailureLimit(ADDRESS_SIGN_IN_FAILURES, ADDRESS_SIGN_IN_WINDOW_SECONDS)
        # Rendered answers that integrations poll, keyed by what they depend on (see api.command.render).
        self.rendered: dict[Any, tuple[tuple[int, ...], bytes]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        db.after_commit = self._after_commit
        self.backups = BackupScheduler(
            db,
            FileStore(config.file_store_dir),
            self.node_id,
            self.settings,
            self._public_hostname,
            config.scratch_dir,
        )
        # Its place in a failover pair; the backup's sync replaces the database's data under
        # the caches, which then read it again.
        self.failover = Failover(config, self._data_replaced)
        # Every background job of this process: the runtime's own (`own_jobs`) from `start`,
        # those of the layers above (the hub's, the freezer) as they start; all end with `stop`.
        self.jobs = Jobs()

    # --- after-commit events -------------------------------------------------------------

    def _after_commit(self, events: list[Any]) -> None:
        """Runs in the thread that committed: caches learn first, then the bus carries the events."""
        for event in events:
            if isinstance(event, StampBumped):
                self.generations.bump(event.name)
                if event.value > self._db_stamps.get(event.name, 0):
                    self._db_stamps[event.name] = event.value
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._publish, events)

    def _publish(self, events: list[Any]) -> None:
        for event in events:
            self.bus.publish_local(event)

    def _remote_stamp(self, event: Any) -> None:
        """Another process changed something we cache: drop it now, not at the next poll."""
        if isinstance(event, StampBumped) and event.value > self._db_stamps.get(event.name, 0):
            self._db_stamps[event.name] = event.value
            self.generations.bump(event.name)

    def _data_replaced(self) -> None:
        """The backup's sync installed the primary's data (in a worker thread): every cache
        reads again, as after a restore."""
        for name in stamps.ALL:
            self.generations.bump(name)

    def stamp_seen(self, name: str) -> int:
        """The value of a change stamp this process has caught up with."""
        return self._db_stamps.get(name, 0)

    # --- cached reads ------------------------------------------------------------------------

    async def settings(self) -> dict[str, Any]:
        return await self._settings_cache.get(self)

    async def directory(self) -> DirectorySnapshot:
        return await self._directory_cache.get(self)

    async def logged_in_reps(self) -> list[LoggedInRep]:
        return await self._reps_cache.get(self)

    async def on_duty(self) -> OnDuty:
        """Which queues someone could take from now, read again only when reps or the directory
        change (generate_session_key answers it per key; another process's change is seen within
        the stamp poll)."""
        return await self._duty_cache.get(self)

    async def _public_hostname(self) -> str:
        return (await self.directory()).default_site.primary_hostname

    def https_port_for_urls(self, settings: dict[str, Any]) -> int:
        configured = int(settings.get("public_https_port") or 0)
        return configured or (self.ports.https or 443)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.db.write(presence.register_node, self.node_id, self.hostname)
        self._db_stamps = await self.db.read(stamps.read_all)
        if isinstance(self.bus, RedisBus):
            settings = await self.settings()
            self.bus.configure(node_id=self.node_id, appliance_id=settings[APPLIANCE_ID])
        self.bus.subscribe(self._remote_stamp)
        await self.bus.start()
        await self.failover.at_start()
        self.jobs.start(*self.own_jobs())

    def own_jobs(self) -> list[Job]:
        """What keeps the caches and presence honest, the file store clean and backups written."""
        return [
            Job("stamp poll", self._poll_stamps, STAMP_POLL_SECONDS),
            Job("heartbeat", self._heartbeat, HEARTBEAT_SECONDS),
            # Closing a dead node's connections twice closes nothing the second time.
            Job("dead-node sweep", self._sweep_dead_nodes, SWEEP_SECONDS, Reach.SHARED),
            Job("orphan-file sweep", self._sweep_orphan_files, ORPHAN_FILE_SECONDS / 6, Reach.SHARED, at_start=True),
            self.backups.job(),
            transfers.expiry_job(self.db, FileStore(self.config.file_store_dir)),
            Job("failover", self.failover.tick, TICK_SECONDS),
        ]

    async def stop(self) -> None:
        await self.jobs.stop()
        await self.bus.stop()
        # Connections are not closed here: clients reconnect to the restarted appliance (or
        # another process) and keep their gsnumbers; those that do not come back are closed
        # by the dead-node sweep once this node's heartbeat is 30 seconds old.

    async def _sweep_orphan_files(self) -> None:
        files = FileStore(self.config.file_store_dir)

        def referenced(digests: list[str]) -> set[str]:
            return self.db.call(referenced_files, digests)

        removed = await asyncio.to_thread(files.sweep, referenced, older_than=ORPHAN_FILE_SECONDS)
        if removed:
            log.info("removed %d files no session references from the file store", removed)

    async def _poll_stamps(self) -> None:
        """Notice changes other processes (or the `lifeline` command) made."""
        current = await self.db.read(stamps.read_all)
        for name, value in current.items():
            if self._db_stamps.get(name) != value:
                self.generations.bump(name)
        self._db_stamps = current

    async def _heartbeat(self) -> None:
        # register_node (not a bare update) so a node swept while it was frozen comes back.
        await self.db.write(presence.register_node, self.node_id, self.hostname)

    async def _sweep_dead_nodes(self) -> None:
        dead = [node_id for node_id in await self.db.read(presence.dead_nodes) if node_id != self.node_id]
        for node_id in dead:
            closed = await self.db.write(connections.close_node, node_id)
            log.warning("node %s stopped answering; closed its %d connections", node_id, closed)
        # Its Jump Clients are offline (they reconnect to a live process); also those of a
        # node no longer listed at all.
        offline = await self.db.write(jump.clear_nodes, dead)
        if offline:
            log.warning("%d Jump Clients of dead nodes are offline", offline)
