"""Every bench in bench/ run end to end in a tiny configuration, so none can rot unnoticed
(bench/live_sessions.py once crashed while provisioning and nobody knew until it was run).
Each must finish and print the figure it exists for."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import services
from bench.cluster import haproxy_available
from tests.support.appliance import ScratchDatabase

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("LIFELINE_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.slow


def run_bench(module: str, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=180,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """The reporting bench fills DATABASE_URL when it is set: give it a database of its own."""
    database = ScratchDatabase(tmp_path)
    yield database.url
    database.drop()


def test_every_bench_has_a_test() -> None:
    benches = {path.stem for path in (ROOT / "bench").glob("*.py")} - {
        "__init__",
        "bare_asgi",
        "screen_scene",
        "cluster",
        "services",
    }
    tested = {
        "client",
        "command_api",
        "faults",
        "jump",
        "live_sessions",
        "protocol_codec",
        "reporting",
        "screen",
        "screen_relay",
    }
    assert benches == tested, "a new bench needs its tiny run here"


@pytest.mark.skipif(
    bool(services.available()) or not haproxy_available(),
    reason="needs redis-server, PostgreSQL's server programs and haproxy (scripts/install --test)",
)
def test_faults_bench_kills_a_node_under_load_and_loses_no_acknowledged_line() -> None:
    out = run_bench(
        "faults",
        *("--duration", "20", "--nodes", "2", "--reps", "1", "--customers", "3"),
        *("--kill-every", "8", "--down", "1", "--seed", "1"),
    )
    assert re.search(r"faults: [1-9]\d* node kills", out), out
    assert re.search(r"chat lines acknowledged: [1-9]\d*", out), out
    assert "chat lines lost: 0" in out, out
    assert re.search(r"worst reconnect \d+\.\d\d s", out), out


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (scripts/install --test installs it)")
def test_command_api_bench_prints_its_ratios() -> None:
    out = run_bench("command_api", "--duration", "1", "--connections", "4")
    for action in ("get_logged_in_reps", "get_support_teams&showmembers", "generate_session_key"):
        assert re.search(rf"{re.escape(action)} .* req/s  \(\d\.\d\d of bare ASGI at \d+ req/s\)", out), out


def test_jump_bench_prints_memory_search_jump_and_storm() -> None:
    out = run_bench(
        "jump",
        "--clients",
        "40",
        "--generators",
        "2",
        "--rate",
        "40",
        "--interval",
        "5",
        "--rest",
        "1",
        "--searches",
        "16",
    )
    assert re.search(r"memory: idle \d+ MB, with 40 Jump Clients \d+ MB", out), out
    assert re.search(r"Jump list search over 40: 16 searches, p50 [\d.]+ ms, p99 [\d.]+ ms", out), out
    assert re.search(r"Jump to a shell prompt on a real Jump Client: [\d.]+s", out), out
    assert re.search(r"all 40 back [\d.]+s after the restart answered", out), out
    assert "the real Jump Client back" in out, out


def test_live_sessions_bench_prints_its_round_trips() -> None:
    out = run_bench(
        "live_sessions", "--reps", "2", "--idle", "3", "--active", "4", "--interval", "0.5", "--duration", "2"
    )
    assert "unanswered at the end: 0" in out, out
    assert re.search(r"round trip p50 [\d.]+ ms, p99 [\d.]+ ms, p99.9 [\d.]+ ms, max [\d.]+ ms", out), out
    assert re.search(r"of the baseline: p50 [\d.]+, p99 [\d.]+, p99.9 [\d.]+, max [\d.]+", out), out
    assert re.search(r"server memory: idle \d+ MB", out), out


def test_reporting_bench_prints_its_ratio(database_url: str) -> None:
    out = run_bench("reporting", "--sessions", "12", "--template", "4", env={"DATABASE_URL": database_url})
    assert "SupportSession for 12 sessions" in out, out
    assert re.search(r"lxml serializing the elements already built .*: [\d.]+ MB/s \([\d.]+ of it\)", out), out


def test_protocol_codec_bench_prints_both_ways() -> None:
    out = run_bench("protocol_codec", "--rounds", "200")
    assert re.search(r"decode\+validate chat request +[\d.]+ +[\d.]+ +\([\d.]+x\)", out), out
    assert re.search(r"encode event message \(by hand\) +[\d.]+ +[\d.]+ +\([\d.]+x\)", out), out


def test_client_bench_prints_echo_output_and_memory() -> None:
    out = run_bench(
        "client",
        *("--shells", "3", "--reps", "2", "--keys", "10", "--duration", "2"),
        *("--chat-interval", "0.5", "--stream-mb", "4"),
    )
    assert re.search(r"keystroke echo .*: \d+ keys, lost 0, p50 [\d.]+ ms, p99 [\d.]+ ms", out), out
    assert re.search(r"chat round trip .*: \d+ lines, lost 0, p50 [\d.]+ ms", out), out
    assert re.search(r"echo against chat: p50 [\d.]+ of it, p99 [\d.]+ of it", out), out
    assert re.search(r"shell output: [\d.]+ MB/s per shell .* of a plain local PTY at [\d.]+ MB/s", out), out
    assert re.search(r"recording of shell \d+: (\d+) bytes of output, the console got \1: complete", out), out
    assert re.search(r"per idle client -?\d+ KB .*; per open shell -?\d+ KB", out), out


def test_screen_relay_bench_prints_how_many_shares_it_relays() -> None:
    out = run_bench("screen_relay", "--steps", "1,3", "--seconds", "1", "--reps", "2")
    assert re.search(r"3 shares: relay delay p50 [\d.]+ ms, p99 [\d.]+ ms .*; 0 of \d+ frames not delivered", out), out
    assert re.search(r"relayed within 20 ms added p99: \d+ shares of 1000 kbit/s", out), out


@pytest.mark.skipif(
    shutil.which("Xvfb") is None or not Path(CHROMIUM).exists(),
    reason="needs Xvfb and Chromium (scripts/install --test installs them)",
)
def test_screen_bench_prints_latency_pictures_and_bandwidth() -> None:
    started = time.monotonic()
    out = run_bench("screen", "--seconds", "1", "--flips", "6", "--chat", "2")
    assert time.monotonic() - started < 60, "the tiny run must stay tiny"
    assert re.search(
        r"glass-to-glass latency \(6 flips, .*\): lost \d, p50 \d+ ms \(aim < 150 ms: (met|MISSED)\)", out
    ), out
    assert re.search(r"p95 \d+ ms \(aim < 300 ms: (met|MISSED)\)", out), out
    assert re.search(r"baseline, chat round trip .* \(2 lines\): p50 \d+ ms", out), out
    assert re.search(r"latency against chat: p50 [\d.]+ of it", out), out
    for scene in ("a still desktop", "a counter 30 times a second", "scrolling text", "a playing video"):
        line = rf"{scene}.*: the desktop changed [\d.]+/s, [\d.]+ pictures/s sent, [\d.]+ drawn; \d+ kbit/s.*; CPU client \d+%, appliance \d+%"
        assert re.search(line, out), out
    assert re.search(r"still desktop.*kbit/s \(aim < 100 kbit/s: (met|MISSED)\)", out), out
