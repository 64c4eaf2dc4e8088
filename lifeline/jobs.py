"""Background jobs: the work an appliance process does on its own clock, declared in one
form wherever it belongs (`Runtime.jobs` and `Hub.jobs` list theirs; `lifeline.app`
starts them all with the process and stops them with it).

A job is a round run again and again: `every` seconds apart (sooner when its `wake` is
set), or, with `every=None`, a loop of its own that is started again if it ends. A round
that fails is logged once with its traceback, not again while it keeps failing the same
way, and the job carries on at its next round. `Reach` says whose work a job is, which
matters as soon as several processes share one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

log = logging.getLogger("lifeline.jobs")

# How long a loop job (`every=None`) that ended or failed waits before it starts again.
LOOP_RESTART_SECONDS = 1.0


class Reach(Enum):
    """Whose work a job does, with several appliance processes on one database."""

    # This process's own state (its caches, its heartbeat, its sockets): every process runs it, for itself.
    OWN = "own"
    # The shared data, in rounds that may overlap with other processes' harmlessly (each
    # write is idempotent or keeps the later of two): every process runs it, for all.
    SHARED = "shared"
    # The shared data, done once: every process looks each round, and a claim in the
    # database (`Job.claim` says which) lets one process do each run.
    CLAIMED = "claimed"


@dataclass(frozen=True)
class Job:
    name: str
    round: Callable[[], Awaitable[object]]
    # Seconds between rounds; None: `round` is a loop that runs until the process stops.
    every: float | None
    reach: Reach = Reach.OWN
    claim: str = ""  # for a CLAIMED job: what picks the one process, in the help desk's words
    at_start: bool = False  # the first round as the job starts, not `every` seconds later
    wake: asyncio.Event | None = None  # set: the next round runs now rather than at its time

    def __post_init__(self) -> None:
        if (self.reach is Reach.CLAIMED) != bool(self.claim):
            raise ValueError(f"job {self.name}: a claimed job, and only one, says what claims it")


class Jobs:
    """The jobs running in one process."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[None]] = {}

    @property
    def names(self) -> list[str]:
        return list(self._running)

    def start(self, *jobs: Job) -> None:
        for job in jobs:
            if job.name in self._running:
                raise ValueError(f"the job {job.name} is running already")
            self._running[job.name] = asyncio.create_task(_run(job), name=f"job: {job.name}")

    async def stop(self, *jobs: Job) -> None:
        """Stop these jobs (every job when none is named) and wait until each has: a round
        under way is cancelled where it waits."""
        names = [job.name for job in jobs] if jobs else list(self._running)
        tasks = [self._running.pop(name) for name in names if name in self._running]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _run(job: Job) -> None:
    failing = ""  # the failure last logged, while it repeats
    failures = 0
    first = job.at_start or job.every is None
    while True:
        if not first:
            await _pause(job)
        first = False
        try:
            await job.round()
        except Exception as error:
            failures += 1
            if f"{type(error).__name__}: {error}" != failing:
                failing = f"{type(error).__name__}: {error}"
                log.exception("background job %s failed; it runs again at its next round", job.name)
            continue
        if failures:
            log.info("background job %s works again after %d failed rounds", job.name, failures)
            failing, failures = "", 0


async def _pause(job: Job) -> None:
    seconds = LOOP_RESTART_SECONDS if job.every is None else job.every
    if job.wake is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(job.wake.wait(), seconds)
    job.wake.clear()
