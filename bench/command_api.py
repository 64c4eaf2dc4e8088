"""Command API under load: the real server beside a bare ASGI endpoint serving the same bytes.

    .venv/bin/python -m bench.command_api [--duration 10] [--connections 32] [--threads 1] [--only ACTION]

Fills an appliance with 200 logged-in reps and 50 teams of 20, starts `lifeline serve`,
and loads get_logged_in_reps, get_support_teams&showmembers and generate_session_key with
wrk, each followed by the bare endpoint answering that action's bytes. Prints requests
per second and the ratio. Everything runs on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy.orm import Session

from lifeline.appliance.settings import set_setting
from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.passwords import hash_password
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientInfo

REPS_LOGGED_IN = 200
TEAMS, TEAM_SIZE = 50, 20
BENCH_NODE = "bench" + "0" * 27
CREDENTIALS = {"username": "bench", "password": "bench-password"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def provision(db: Database) -> None:
    shared_hash = hash_password("rep-password")  # one hash for a thousand reps: provisioning speed only

    def work(session: Session) -> None:
        directory.add_user(
            session,
            "bench",
            CREDENTIALS["password"],
            directory.UserChanges(perm_command_api=True, perm_support=True),
        )
        set_setting(session, "xml_api_allow_http", "true")
        presence.register_node(session, BENCH_NODE, "bench")
        n = 0
        for t in range(TEAMS):
            team = directory.add_team(session, f"Team {t:02d}")
            directory.add_issue(session, team, f"Issue of team {t:02d}")
            for _ in range(TEAM_SIZE):
                n += 1
                user = directory.User(
                    username=f"rep{n:04d}",
                    password_hash=shared_hash,
                    display_name=f"Representative {n:04d}",
                    perm_support=True,
                    perm_show_on_rep_list=True,
                )
                session.add(user)
                session.flush()
                directory.add_team_member(session, team, user)
                if n <= REPS_LOGGED_IN:
                    presence.rep_log_in(session, user, node_id=BENCH_NODE, info=ClientInfo(hostname=f"pc{n}"))

    db.call(work)


def heartbeat(db: Database, stop: threading.Event) -> None:
    while not stop.wait(3):
        db.call(presence.register_node, BENCH_NODE, "bench")


def wrk(url: str, args: argparse.Namespace) -> float:
    out = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or errors:
        raise RuntimeError(f"wrk failed:\n{out}")
    return float(match.group(1))


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1 leaves the other core to the server)")
    parser.add_argument("--only", default="", help="load only this case (for example generate_session_key)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lifeline-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        env = {**os.environ, "LIFELINE_DATA_DIR": str(data_dir), "LIFELINE_ADMIN_PASSWORD": "bench-admin-password"}
        env.pop("DATABASE_URL", None)
        db = open_database(Config(data_dir=data_dir))
        os.environ["LIFELINE_ADMIN_PASSWORD"] = env["LIFELINE_ADMIN_PASSWORD"]
        db.call(ensure_appliance, "bench.example.com")
        started = time.monotonic()
        provision(db)
        print(
            f"provisioned {TEAMS * TEAM_SIZE} reps in {TEAMS} teams, {REPS_LOGGED_IN} logged in "
            f"({time.monotonic() - started:.1f}s)",
            flush=True,
        )
        stop = threading.Event()
        beat = threading.Thread(target=heartbeat, args=(db, stop), daemon=True)
        beat.start()

        port, https_port = free_port(), free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lifeline",
                "serve",
                "--https-port",
                str(https_port),
                "--http-port",
                str(port),
                "--bind",
                "127.0.0.1",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        results: list[tuple[str, float, float]] = []
        try:
            wait_for(f"http://127.0.0.1:{port}/check_health")
            cases = [
                ("get_logged_in_reps", {"action": "get_logged_in_reps"}),
                ("get_support_teams&showmembers", {"action": "get_support_teams", "showmembers": "1"}),
                ("generate_session_key", {"action": "generate_session_key", "type": "support", "queue_id": "general"}),
            ]
            for name, params in cases:
                if args.only and name != args.only:
                    continue
                url = f"http://127.0.0.1:{port}/api/command?" + urlencode({**CREDENTIALS, **params})
                body = httpx.get(url).content
                if b"<error" in body:
                    raise RuntimeError(body.decode())
                if name == "get_logged_in_reps":
                    assert body.count(b"<rep id=") == REPS_LOGGED_IN, body[:300]
                real = wrk(url, args)
                body_file = Path(tmp) / f"{name}.xml"
                body_file.write_bytes(body)
                bare_port = free_port()
                bare = subprocess.Popen([sys.executable, "-m", "bench.bare_asgi", str(bare_port), str(body_file)])
                try:
                    wait_for(f"http://127.0.0.1:{bare_port}/")
                    baseline = wrk(f"http://127.0.0.1:{bare_port}/", args)
                finally:
                    bare.terminate()
                    bare.wait()
                results.append((name, real, baseline))
                print(
                    f"{name:32s} {real:9.0f} req/s   bare ASGI {baseline:9.0f} req/s   "
                    f"ratio {real / baseline:.2f}   ({len(body)} bytes)",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait()
            stop.set()
            beat.join()
            db.close()

    print()
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, one appliance process, SQLite, plain HTTP")
    for name, real, baseline in results:
        print(f"  {name:32s} {real:9.0f} req/s  ({real / baseline:.2f} of bare ASGI at {baseline:.0f} req/s)")


if __name__ == "__main__":
    main()
