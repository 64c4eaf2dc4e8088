"""Background jobs: rounds on their clock, a failure logged once while it repeats, a wake
that runs a round now, and a stop that waits for every job, the appliance's at shutdown."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from lifeline.app import Appliance
from lifeline.config import Config
from lifeline.db.engine import Database
from lifeline.jobs import Job, Jobs, Reach
from lifeline.runtime import Ports, Runtime


def run(test: object) -> None:
    asyncio.run(test)  # type: ignore[arg-type]


def test_rounds_come_every_interval_and_at_start_when_asked() -> None:
    async def test() -> None:
        counts = {"later": 0, "now": 0}

        async def later() -> None:
            counts["later"] += 1

        async def now() -> None:
            counts["now"] += 1

        jobs = Jobs()
        jobs.start(Job("later", later, 0.05), Job("now", now, 10, at_start=True))
        await asyncio.sleep(0.01)
        assert counts == {"later": 0, "now": 1}
        await asyncio.sleep(0.2)
        assert counts["later"] >= 2 and counts["now"] == 1
        await jobs.stop()
        assert jobs.names == []

    run(test())


def test_a_failing_job_is_logged_once_while_it_fails_the_same_way_and_keeps_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def test() -> None:
        rounds: list[int] = []

        async def flaky() -> None:
            rounds.append(len(rounds))
            if len(rounds) <= 3:
                raise RuntimeError("the database went away")

        jobs = Jobs()
        jobs.start(Job("flaky", flaky, 0.01))
        while len(rounds) < 6:
            await asyncio.sleep(0.01)
        await jobs.stop()

    with caplog.at_level(logging.INFO, logger="lifeline.jobs"):
        run(test())
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert messages == [
        ("ERROR", "background job flaky failed; it runs again at its next round"),
        ("INFO", "background job flaky works again after 3 failed rounds"),
    ]
    assert caplog.records[0].exc_info is not None  # the traceback, once


def test_a_wake_runs_the_next_round_now() -> None:
    async def test() -> None:
        wake = asyncio.Event()
        rounds: list[int] = []

        async def look() -> None:
            rounds.append(1)

        jobs = Jobs()
        jobs.start(Job("backup", look, 60, Reach.CLAIMED, claim="the run that is due", wake=wake))
        await asyncio.sleep(0.01)
        assert rounds == []
        wake.set()
        await asyncio.sleep(0.01)
        assert rounds == [1]
        await jobs.stop()

    run(test())


def test_a_loop_job_starts_at_once_and_again_if_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lifeline.jobs.LOOP_RESTART_SECONDS", 0.01)

    async def test() -> None:
        starts: list[int] = []

        async def loop() -> None:
            starts.append(1)
            if len(starts) < 3:
                return
            await asyncio.Event().wait()  # runs until stopped

        jobs = Jobs()
        jobs.start(Job("listener", loop, None))
        await asyncio.sleep(0.1)
        assert starts == [1, 1, 1]
        await jobs.stop()

    run(test())


def test_stopping_some_jobs_cancels_their_rounds_and_waits_leaving_the_others() -> None:
    async def test() -> None:
        cancelled: list[str] = []

        async def slow() -> None:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.append("slow")
                raise

        async def quick() -> None:
            pass

        jobs = Jobs()
        slow_job = Job("slow", slow, 1, at_start=True)
        jobs.start(slow_job, Job("quick", quick, 1))
        await asyncio.sleep(0.01)
        await jobs.stop(slow_job)
        assert cancelled == ["slow"] and jobs.names == ["quick"]
        with pytest.raises(ValueError, match="running already"):
            jobs.start(Job("quick", quick, 1))
        await jobs.stop()
        assert jobs.names == []

    run(test())


def test_a_claimed_job_says_what_claims_it_and_only_it() -> None:
    async def nothing() -> None:
        pass

    with pytest.raises(ValueError, match="says what claims it"):
        Job("backup", nothing, 5, Reach.CLAIMED)
    with pytest.raises(ValueError, match="says what claims it"):
        Job("sweep", nothing, 5, Reach.SHARED, claim="a row")


def test_the_appliance_runs_every_job_while_it_serves_and_stops_them_all(db: Database, tmp_path: Path) -> None:
    runtime = Runtime(Config(data_dir=tmp_path / "data"), db, ports=Ports(https=None, http=None))
    appliance = Appliance(runtime)
    running: list[str] = []

    async def serve() -> None:
        async with appliance.router.router.lifespan_context(appliance.router):
            running.extend(runtime.jobs.names)

    run(serve())
    assert sorted(running) == [
        "Jump Clients offline too long",
        "Jump sockets checked",
        "Jump statistics",
        "dead-node sweep",
        "expire dropped connections",
        "failover",
        "follow restores",
        "follow sign-ins",
        "freezing ended sessions for reports",
        "heartbeat",
        "idle transfer expiry",
        "orphan-file sweep",
        "scheduled backup",
        "sockets follow the primary",
        "stamp poll",
    ]
    assert runtime.jobs.names == []
