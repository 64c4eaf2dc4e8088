"""SupportSession over a large history: MB/s, time to first byte and server memory, beside
lxml serializing the same elements from memory in the same run.

    .venv/bin/python -m bench.reporting [--sessions 100000] [--template 500]

Fills a fresh appliance (SQLite, or DATABASE_URL) with `--sessions` support sessions of
about 20 events each, starts `lifeline serve`, waits for its freezer to freeze every ended
session (an appliance's steady state: sessions are frozen seconds after they end; see
lifeline/reports/freezing.py) and pulls SupportSession for all of them over plain
HTTP on loopback, three times. Before each pull it times one pass of lxml serializing
SupportSession elements for a sample of the same sessions, built in this process from
their rows (not from frozen copies): the baseline the aim is set against, measured in the same
stretch of time as the pull it is compared with. It prints how long freezing took, each
pull's MB/s and the best beside the best pass, the slowest first byte, the server's
resident memory as the report grows (read from /proc), and lxml building and serializing
the elements from records.

How the history is made: `--template` sessions are run through the engine (started from a
team queue, system information, taken by a rep, chat, a note, files both ways, ended, a
customer survey). The rest are copies of those rows made with INSERT ... SELECT, each with
its own lseq and lsid: the same rows the engine writes, made fast (the engine alone makes
a few hundred sessions a second here, which would take many minutes for 100,000).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import Integer, Text, cast, func, insert, literal, select, text
from sqlalchemy.orm import Session

from bench.command_api import free_port, wait_for
from lifeline.api.endpoint import Era
from lifeline.api.reporting import render
from lifeline.api.reporting.links import DownloadLinks
from lifeline.appliance.settings import set_setting
from lifeline.backup.schema import metadata
from lifeline.bootstrap import ensure_appliance, open_database
from lifeline.config import Config, normalize_database_url
from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.directory import actions as directory
from lifeline.directory.models import ViewReports
from lifeline.presence import actions as presence
from lifeline.presence.models import ClientInfo, ClientKind
from lifeline.reports.sessions import Part, sessions_by_id
from lifeline.reports.surveys import questions_now
from lifeline.sessions import actions as engine
from lifeline.sessions import activity, connections
from lifeline.sessions.queues import resolve_queue
from lifeline.surveys.actions import QuestionType, SurveyKind, add_question, submit_survey

NODE = "bench" + "0" * 27
REPORTER = {"username": "reporter", "password": "reporter-password"}
COPIED = ("support_sessions", "session_participants", "session_teams", "session_attributes", "session_events",
          "survey_responses")  # fmt: skip
SAMPLE = 5000
PULLS = 3


# --- filling the appliance ------------------------------------------------------------------


def provision(db: Database) -> None:
    def work(session: Session) -> None:
        directory.add_user(
            session,
            "reporter",
            REPORTER["password"],
            directory.UserChanges(perm_reporting_api=True, perm_view_reports=ViewReports.ALL_SESSIONS),
        )
        set_setting(session, "xml_api_allow_http", "true")
        presence.register_node(session, NODE, "bench")
        for t in range(5):
            team = directory.add_team(session, f"Team {t}")
            for r in range(4):
                user = directory.add_user(
                    session,
                    f"rep{t}{r}",
                    "rep-password-1",
                    directory.UserChanges(display_name=f"Representative {t}{r}", perm_support=True),
                )
                directory.add_team_member(session, team, user)
        add_question(
            session,
            SurveyKind.CUSTOMER,
            name="rating",
            label="How did we do?",
            question_type=QuestionType.RADIO,
            options=["Good", "Bad"],
        )

    db.call(work)


INFO = [
    activity.InfoCategory(
        "Drives", [("drive", "Drive"), ("type", "Type"), ("used", "Percent Used")], [["C:\\", "Local Disk", "61%"]]
    )
]
CHAT = [
    "Hello, my printer is jammed again",
    "Let me have a look at it",
    "It says E42 on the little screen",
    "That is the paper path; open the back cover",
    "Done, there was a folded page",
    "Great, please print a test page",
]


def one_session(session: Session, n: int) -> None:
    """A support session from start to survey, through the engine: about 20 events."""
    team = n % 5
    queue = resolve_queue(session, f"team:{team + 1}")
    customer = presence.connect(
        session,
        node_id=NODE,
        kind=ClientKind.SUPPORT_CUSTOMER,
        info=ClientInfo(hostname=f"pc-{n}", os="Windows 11", public_ip="198.51.100.7", private_ip="10.1.1.7"),
    )
    support_session = engine.start_session(
        session,
        queue=queue,
        public_site_id=1,
        customer_connection=customer,
        details=engine.CustomerDetails(name=f"Customer {n}", company="Acme", details="The printer jams"),
        start_method="session_key",
        external_key=f"INC-{n}",
    )
    customer_actor = engine.customer_actor(session, support_session)
    activity.record_system_information(session, support_session, customer_actor, INFO)
    user = directory.find_user(session, f"rep{team}{n % 4}")
    assert user is not None
    rep = presence.rep_log_in(session, user, node_id=NODE, info=ClientInfo(hostname="rep-pc", os="Linux"))
    engine.take_session(session, support_session, rep, user)
    rep_actor = engine.rep_actor(rep, user)
    for line in range(12):
        speaker = customer_actor if line % 2 == 0 else rep_actor
        activity.send_chat(session, support_session, speaker, CHAT[line % len(CHAT)])
    activity.add_note(session, support_session, rep_actor, "Cleared the paper path.")
    activity.record_file(session, support_session, rep_actor, activity.FileSent("fix.ps1", 24, "a" * 64))
    engine.end_session(session, support_session, rep_actor)
    submit_survey(session, support_session, SurveyKind.CUSTOMER, customer_actor, {1: ["Good"]})
    connections.disconnect(session, rep)
    connections.disconnect(session, customer)


def copy_sessions(db: Database, template: int, total: int) -> None:
    """Copies of the template sessions' rows, each copy with new lseqs and lsids."""
    tables = {name: metadata.tables[name] for name in COPIED}
    sqlite = db.is_sqlite
    new_lsid = (
        func.lower(func.hex(func.randomblob(16)))
        if sqlite
        else func.md5(cast(func.random(), Text) + cast(func.clock_timestamp(), Text))
    )
    copy = 1
    while template * (copy + 1) <= total:
        offset = template * copy
        with db.engine.begin() as conn:
            for name, table in tables.items():
                generated = name != "support_sessions" and "id" in table.c and table.c.id.primary_key
                columns = [c for c in table.columns if not (generated and c.name == "id")]
                values: list[Any] = []
                for column in columns:
                    if name == "support_sessions" and column.name == "id":
                        values.append(column + literal(offset, Integer))
                    elif name == "support_sessions" and column.name == "lsid":
                        values.append(new_lsid)
                    elif column.name == "session_id":
                        values.append(column + literal(offset, Integer))
                    else:
                        values.append(column)
                source = table.c.id if name == "support_sessions" else table.c.session_id
                conn.execute(
                    insert(table).from_select([c.name for c in columns], select(*values).where(source <= template))
                )
        copy += 1
        if copy % 20 == 0:
            print(f"  {template * copy} sessions", flush=True)


def fill(db: Database, sessions: int, template: int) -> None:
    started = time.monotonic()
    for first in range(0, template, 100):
        db.call(lambda s, first=first: [one_session(s, n) for n in range(first, min(first + 100, template))])
    engine_seconds = time.monotonic() - started
    events = db.call(lambda s: s.execute(text("SELECT COUNT(*) FROM session_events")).scalar_one())
    print(f"{template} sessions through the engine in {engine_seconds:.1f}s ({events / template:.1f} events each)")
    started = time.monotonic()
    copy_sessions(db, template, sessions)
    if not db.is_sqlite:
        db.call(lambda s: s.execute(text("SELECT setval(pg_get_serial_sequence('support_sessions', 'id'), "
                                          "(SELECT MAX(id) FROM support_sessions))")))  # fmt: skip
        db.call(lambda s: s.execute(text("ANALYZE")))
    total = db.call(lambda s: s.execute(text("SELECT COUNT(*) FROM support_sessions")).scalar_one())
    print(f"copied to {total} sessions in {time.monotonic() - started:.1f}s", flush=True)


# --- measuring ------------------------------------------------------------------------------


def wait_for_freezing(db: Database, started: float) -> float:
    """Seconds until the server's freezer has frozen every session's details (a day-old
    appliance's steady state: sessions are frozen seconds after they end)."""
    count = text("SELECT COUNT(*) FROM sealed_session_details")
    total = db.call(lambda s: s.execute(text("SELECT COUNT(*) FROM support_sessions")).scalar_one())
    while db.call(lambda s: s.execute(count).scalar_one()) < total:
        time.sleep(0.5)
    return time.monotonic() - started


def frozen_mb(db: Database) -> float:
    size = text("SELECT SUM(LENGTH(xml)) FROM sealed_session_details")
    return float(db.call(lambda s: s.execute(size).scalar_one()) or 0) / 1e6


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def pull(port: int, pid: int) -> dict[str, Any]:
    """The report over HTTP, watching the server's memory while it streams.

    Read with the standard library's http.client into one reused buffer: the client shares
    the machine's two cores with the server, and a client that parses the stream in Python
    (httpx's h11) took some 10% off what the server could send (measured against curl)."""
    samples: list[tuple[int, float]] = []
    received = 0
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            samples.append((received, rss_mb(pid)))

    watcher = threading.Thread(target=watch, daemon=True)
    idle = rss_mb(pid)
    params = {**REPORTER, "generate_report": "SupportSession", "start_date": "2000-01-01", "duration": "0"}
    buffer = bytearray(1024 * 1024)
    view = memoryview(buffer)
    marker = b"<session lsid="
    started = time.perf_counter()
    first_byte = None
    sessions = 0
    tail = b""
    watcher.start()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request("GET", "/api/reporting?" + urllib.parse.urlencode(params))
        response = connection.getresponse()
        assert response.status == 200, response.status
        while size := response.readinto(buffer):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            received += size
            chunk = view[:size]
            # A marker cut by the read's end is counted once, from the joined edges.
            edge = tail + bytes(chunk[: len(marker) - 1])
            sessions += buffer.count(marker, 0, size) + edge.count(marker)
            tail = bytes(chunk[-(len(marker) - 1) :])
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    return {
        "bytes": received,
        "seconds": elapsed,
        "first_byte": first_byte or elapsed,
        "sessions": sessions,
        "idle_mb": idle,
        "samples": samples,
        "peak_mb": rss_mb(pid, "VmHWM"),
    }


class Baseline:
    """lxml on a sample of the same sessions, in this process: building and serializing
    SupportSession elements from records in memory, and serializing the elements once
    built (the baseline the aim is set against)."""

    def __init__(self, db: Database, port: int) -> None:
        def load(session: Session) -> tuple[list[Any], dict[str, Any]]:
            # Every part read from its rows (not from frozen copies), for lxml to build from.
            records = sessions_by_id(session, list(range(1, SAMPLE + 1)), Part.EVERYTHING)
            return records, {kind: questions_now(session, kind) for kind in ("customer", "representative")}

        records, questions = db.call(load)
        view = render.View(
            era=Era.LATER,
            zone=ZoneInfo("UTC"),
            links=DownloadLinks("x" * 64, f"https://bench.example.com:{port}"),
            recordings=True,
            now=utcnow(),
            questions=questions,
            attribute_names={},
        )
        started = time.perf_counter()
        self.elements = [render.session_element(view, record) for record in records]
        self.built = b"".join(etree.tostring(e, pretty_print=True) for e in self.elements)
        self.build_rate = len(self.built) / (time.perf_counter() - started) / 1e6
        self.sampled = len(records)

    def serialize(self) -> float:
        """MB/s of one pass serializing the built elements."""
        started = time.perf_counter()
        again = b"".join(etree.tostring(e, pretty_print=True) for e in self.elements)
        seconds = time.perf_counter() - started
        assert again == self.built
        return len(again) / seconds / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--template", type=int, default=500, help="sessions run through the engine")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lifeline-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        url = os.environ.get("DATABASE_URL", "")
        env = {**os.environ, "LIFELINE_DATA_DIR": str(data_dir), "LIFELINE_ADMIN_PASSWORD": "bench-admin-password"}
        os.environ["LIFELINE_ADMIN_PASSWORD"] = env["LIFELINE_ADMIN_PASSWORD"]
        db = open_database(Config(data_dir=data_dir, database_url=normalize_database_url(url) if url else ""))
        kind = "SQLite" if db.is_sqlite else "PostgreSQL"
        if not db.is_sqlite and db.call(lambda s: s.execute(text("SELECT COUNT(*) FROM support_sessions")).scalar()):
            raise SystemExit("DATABASE_URL must name an empty database")
        db.call(ensure_appliance, "bench.example.com")
        provision(db)
        fill(db, args.sessions, args.template)
        port, https_port = free_port(), free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "lifeline", "serve", "--https-port", str(https_port), "--http-port", str(port),
             "--bind", "127.0.0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(f"http://127.0.0.1:{port}/check_health")
            frozen_in = wait_for_freezing(db, started=time.monotonic())
            baseline = Baseline(db, port)
            # Each pull beside a pass of the baseline: this machine's speed drifts over
            # minutes, so both are measured in the same stretch of time, best of three each.
            pulls, serialized = [], []
            for _ in range(PULLS):
                serialized.append(baseline.serialize())
                pulls.append(pull(port, server.pid))
        finally:
            server.terminate()
            server.wait()
        build_rate, serialize_rate, sampled = baseline.build_rate, max(serialized), baseline.sampled
        stored = frozen_mb(db)
        db.close()

    rates = [p["bytes"] / 1e6 / p["seconds"] for p in pulls]
    result = pulls[rates.index(max(rates))]
    mb = result["bytes"] / 1e6
    rate = max(rates)
    first_byte = max(p["first_byte"] for p in pulls)
    print()
    print(f"the server froze the details of {args.sessions} ended sessions in {frozen_in:.1f}s "
          f"({args.sessions / frozen_in:.0f} a second; {stored:.0f} MB stored, compressed)")  # fmt: skip
    if any(p["sessions"] != args.sessions for p in pulls):
        print(f"  a pull did not hold every session: {[p['sessions'] for p in pulls]}")
    print(f"SupportSession for {result['sessions']} sessions, one appliance process, {kind}, plain HTTP on loopback")
    each = ", ".join(f"{r:.1f}" for r in rates)
    print(f"  {mb:.0f} MB in {result['seconds']:.1f}s: {rate:.1f} MB/s (best of {PULLS} pulls: {each} MB/s)")
    print(f"  first byte after {first_byte:.3f}s at the slowest")
    print(f"  lxml building and serializing the same elements from records in memory: {build_rate:.1f} MB/s "
          f"({rate / build_rate:.2f} of it; sample of {sampled} sessions)")  # fmt: skip
    print(
        f"  lxml serializing the elements already built (best of {PULLS}, one pass before each pull: "
        f"{', '.join(f'{r:.1f}' for r in serialized)}): {serialize_rate:.1f} MB/s ({rate / serialize_rate:.2f} of it)"
    )
    peak = max(p["peak_mb"] for p in pulls)
    print(f"  server memory: {pulls[0]['idle_mb']:.0f} MB idle, peak {peak:.0f} MB over the {PULLS} pulls")
    samples = result["samples"]
    if samples:
        marks = []
        for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
            wanted = result["bytes"] * fraction
            at = next((s for s in samples if s[0] >= wanted), samples[-1])
            marks.append(f"{fraction:.0%} {at[1]:.0f} MB")
        print("  resident memory as the report grew: " + ", ".join(marks))


if __name__ == "__main__":
    main()
