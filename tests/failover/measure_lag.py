"""How far behind a backup can be: the sync interval plus one sync's duration, measured on
a primary holding N sessions (each about 20 events, from bench/reporting.py's filler).

    .venv/bin/python -m tests.failover.measure_lag --sessions 10000

Prints the database's size, the first (full) sync's duration and a steady-state sync's
(one new session since the last), each as a ratio against copying the database file
locally in the same run (the floor of any full copy)."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

from bench.reporting import fill, one_session, provision, wait_for_freezing
from lifeline.failover.state import read_state
from tests.support.appliance import RunningAppliance

INTERVAL = 2.0
STEADY_SAMPLES = 5


def _setup(one: RunningAppliance, other: RunningAppliance, role: str, key: Path | None) -> str:
    args = ["failover", "setup", "--role", role, "--own-url", one.https, "--peer-url", other.https]
    args += ["--peer-certificate", str(other.cert_path), "--sync-interval", str(INTERVAL)]
    return one.cli(*args, *(["--pairing-key-file", str(key)] if key else []), "--json")


def _next_sync(backup: RunningAppliance, after: float, timeout: float = 600) -> tuple[float, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(backup.data_dir)
        if (
            state.last_sync_time
            and state.last_sync_time > after
            and (state.last_sync_status or "").startswith("Success")
        ):
            took = re.search(r"took ([0-9.]+) s", state.last_sync_status or "")
            return float(took.group(1)) if took else 0.0, state.last_sync_status or ""
        time.sleep(0.1)
    raise TimeoutError(read_state(backup.data_dir).last_sync_status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        primary, backup = RunningAppliance(root / "a"), RunningAppliance(root / "b")
        try:
            primary.start()
            provision(primary.db)
            fill(primary.db, args.sessions, min(args.sessions, 200))
            # A day-old appliance's steady state: every ended session's details frozen.
            wait_for_freezing(primary.db, time.monotonic())
            database = primary.data_dir / "lifeline.db"
            started = time.monotonic()
            shutil.copyfile(database, root / "baseline.db")
            baseline = time.monotonic() - started
            size_mb = database.stat().st_size / 1e6
            backup.start()
            key = json.loads(_setup(primary, backup, "primary", None))["pairing_key"]
            (root / "key").write_text(key)
            paired = time.time()
            _setup(backup, primary, "backup", root / "key")
            full, full_status = _next_sync(backup, paired)
            samples: list[tuple[float, str]] = []
            for n in range(STEADY_SAMPLES):
                primary.db.call(one_session, args.sessions + 1 + n)
                samples.append(_next_sync(backup, time.time()))
            samples.sort()
            steady, steady_status = samples[len(samples) // 2]
            worst = samples[-1][0]
            print(f"{args.sessions} sessions, database {size_mb:.1f} MB; local file copy (baseline) {baseline:.3f} s")
            print(f"first sync {full:.2f} s ({full / max(baseline, 1e-6):.1f}x the copy): {full_status}")
            print(f"steady sync, median of {STEADY_SAMPLES} {steady:.2f} s (worst {worst:.2f} s; "
                  f"{steady / max(baseline, 1e-6):.1f}x the copy): {steady_status}")  # fmt: skip
            print(
                f"worst lag at a {INTERVAL:.0f} s interval: about {INTERVAL + worst:.2f} s (interval + the worst sync)"
            )
        finally:
            backup.close()
            primary.close()


if __name__ == "__main__":
    main()
