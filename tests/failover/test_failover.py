"""A failover pair of two real appliances on loopback (the embedded SQLite default): the
backup's sync, the Command API's view of the pair, a planned role swap with a data sync
first, and a forced takeover with the primary killed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from lifeline.failover import snapshot
from lifeline.failover.channel import Peer, PeerUnreachable
from lifeline.failover.pairing import Pairing, new_pairing_key, read_pairing, signing_key_of
from lifeline.failover.service import CHANGED_ROLE, STARTED_SYNC
from lifeline.failover.state import read_state
from lifeline.recordings.filestore import FileStore
from tests.support.activity import SessionDriver
from tests.support.appliance import ADMIN_PASSWORD, RunningAppliance, eventually, needs_two_processes
from tests.support.command import NS_LATER, CommandApi, error_of, local
from tests.support.engine import ConsoleNode
from tests.support.reporting import ReportingApi
from tests.support.xmlcheck import q, text_of

ADMIN = {"username": "admin", "password": ADMIN_PASSWORD}
# The database's copy is the embedded SQLite's; on PostgreSQL the pair shares the database
# (test_on_postgresql_only_files_sync).
sqlite_only = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="the SQLite copy")
SYNC_SECONDS = "1"


def _setup(appliance: RunningAppliance, peer: RunningAppliance, role: str, key_file: Path | None) -> Any:
    args = ["failover", "setup", "--role", role, "--own-url", appliance.https, "--peer-url", peer.https]
    args += ["--peer-certificate", str(peer.cert_path), "--sync-interval", SYNC_SECONDS]
    if key_file is not None:
        args += ["--pairing-key-file", str(key_file)]
    return appliance.cli_json(*args)


@contextlib.contextmanager
def _paired(tmp_path: Path, *, shared: bool) -> Iterator[tuple[RunningAppliance, RunningAppliance]]:
    primary = RunningAppliance(tmp_path / "a")
    backup = RunningAppliance(tmp_path / "b", database=primary.database if shared else None)
    try:
        primary.start()
        backup.start()
        printed = _setup(primary, backup, "primary", None)
        key_file = tmp_path / "pairing-key"
        key_file.write_text(printed["pairing_key"] + "\n")
        # Given once: a second setup of the primary keeps the key and does not print it.
        assert "pairing_key" not in _setup(primary, backup, "primary", None)
        _setup(backup, primary, "backup", key_file)
        key_file.unlink()
        yield primary, backup
    finally:
        backup.close()
        primary.close()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[RunningAppliance, RunningAppliance]]:
    """A is the primary, B its backup, syncing every second."""
    with _paired(tmp_path, shared=False) as both:
        yield both


@needs_two_processes
def test_on_postgresql_only_files_sync(tmp_path: Path) -> None:
    """Both appliances on one PostgreSQL database (as a shared or replicated one is): the
    backup copies the file store and says the database is not its business."""
    with _paired(tmp_path, shared=True) as (primary, backup):
        stored = FileStore(primary.data_dir / "files").put_bytes(b"a screenshot of the error")
        held = backup.data_dir / "files" / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256
        eventually(lambda: _holds(held, b"a screenshot of the error"), timeout=20)

        def reported() -> None:
            # The sync reads the role file afresh; requests see it within REREAD_SECONDS.
            health = _health(backup)
            assert text_of(health, NS_LATER, "failover_role") == "backup"
            assert "the database is PostgreSQL, shared or replicated as deployed" in _status(health)

        eventually(reported, timeout=5)


def _holds(path: Path, content: bytes) -> None:
    assert path.is_file() and path.read_bytes() == content


def _a_session(appliance: RunningAppliance, lines: list[str]) -> tuple[str, str]:
    """A session with chat and a file on `appliance`, ended; its lsid and the file's SHA-256."""
    node = ConsoleNode(appliance.db)
    try:
        rep = node.log_in("admin")
        driver = SessionDriver(node, node.start_session(customer_name="Pat Failover"), appliance.data_dir)
        driver.take(rep)
        for line in lines:
            driver.chat(line, by=None)
        content = b"printer.log from the customer " + lines[0].encode()
        driver.send_file("printer.log", content, by=None)
        driver.end(by=rep)
        return driver.lsid, hashlib.sha256(content).hexdigest()
    finally:
        node.close()


def _health(appliance: RunningAppliance) -> Any:
    with appliance.client() as client:
        return CommandApi(client).call("check_health", ADMIN)


def _role(appliance: RunningAppliance) -> str:
    return text_of(_health(appliance), NS_LATER, "failover_role")


def _synced_since(appliance: RunningAppliance, moment: float) -> None:
    root = _health(appliance)
    synced = root.find(q(NS_LATER, "last_data_sync_time"))
    assert synced is not None and int(synced.get("ts") or 0) > moment, _status(root)
    assert _status(root).startswith("Success"), _status(root)


def _status(root: Any) -> str:
    return text_of(root, NS_LATER, "last_data_sync_status")


def _report_has(appliance: RunningAppliance, lsid: str, lines: list[str]) -> None:
    with appliance.client() as client:
        reporting = ReportingApi(client)
        response = reporting.raw("SupportSession", ADMIN, lsid=lsid)
        reporting.check(response, ns=False)
        for line in lines:
            assert line in response.text, line


@sqlite_only
def test_backup_follows_the_primary_and_a_planned_swap_loses_nothing(
    pair: tuple[RunningAppliance, RunningAppliance],
) -> None:
    primary, backup = pair
    before = time.time()
    lines = ["my printer stopped", "it says PC LOAD LETTER"]
    lsid, file_digest = _a_session(primary, lines)
    eventually(lambda: _synced_since(backup, before + 1), timeout=20)
    # A sync recorded after `before` may have begun before the file was stored: the next carries it.
    held = backup.data_dir / "files" / file_digest[:2] / file_digest[2:4] / file_digest
    eventually(lambda: _check(held.is_file()), timeout=20)
    # The backup's check_health: its role and its sync, in the served XSD's order.
    health = _health(backup)
    assert [local(c) for c in health] == [
        "appliance",
        "version",
        "success",
        "failover_role",
        "last_data_sync_time",
        "last_data_sync_status",
    ]
    assert text_of(health, NS_LATER, "failover_role") == "backup"
    # The primary hears of each sync too.
    eventually(lambda: _synced_since(primary, before + 1), timeout=5)
    # get_appliances: both, this one first; the backup accepts no connections.
    with primary.client() as client:
        root = CommandApi(client).call("get_appliances", ADMIN)
    listed = [(text_of(a, NS_LATER, "failover_role"), text_of(a, NS_LATER, "accepting_connections")) for a in root]
    assert listed == [("primary", "1"), ("backup", "0")]
    ids = [a.get("id") for a in root]
    assert len(set(ids)) == 2 and ids[0] == _health(primary).find(q(NS_LATER, "appliance")).get("id")
    # The backup takes no sessions and no changes, and says where to go.
    with backup.client() as client:
        refused = error_of(CommandApi(client).call("generate_session_key", ADMIN, type="support", queue_id="general"))
        assert refused == f"This appliance is the backup; use the primary, {primary.https}"
        page = client.get("/api/start_session", params={"issue_menu": "1", "customer.name": "Late"})
        assert page.status_code == 503 and "This appliance is the backup" in page.text
        assert error_of(CommandApi(client).call("set_failover_role", ADMIN, role="backup")) == (
            "This appliance is already the backup"
        )
    # A line acknowledged just before the swap: the sync that comes first carries it.
    late_lsid, late = _swap_with_a_sync_first(primary, backup, asked=backup)
    _report_has(backup, lsid, lines)
    # The new backup syncs from the new primary.
    swapped = time.time()
    eventually(lambda: _synced_since(primary, swapped + 1), timeout=20)
    # And back, without a sync first: answered at once.
    with primary.client() as client:
        answer = CommandApi(client).call("set_failover_role", ADMIN, role="primary")
    assert answer.text == CHANGED_ROLE
    eventually(lambda: _roles_are(primary, "primary", backup, "backup"), timeout=5)
    # Automatic takeover: set up again without the key (it is kept), the primary killed.
    backup.cli(
        "failover", "setup", "--role", "backup", "--own-url", backup.https, "--peer-url", primary.https,
        "--peer-certificate", str(primary.cert_path), "--takeover-after", "2",
    )  # fmt: skip
    _kill_9(primary)
    eventually(lambda: _took_over(backup), timeout=15)
    _report_has(backup, late_lsid, late)


def _swap_with_a_sync_first(
    primary: RunningAppliance, backup: RunningAppliance, *, asked: RunningAppliance
) -> tuple[str, list[str]]:
    """A line acknowledged on the primary, then set_failover_role with data_sync_first=1
    asked of either appliance (the backup to become the primary, or the primary the backup):
    the roles swap and the line is on the new primary. Returns its session and lines."""
    late = ["acknowledged a moment before the swap"]
    late_lsid, _ = _a_session(primary, late)
    role = "primary" if asked is backup else "backup"
    with asked.client() as client:
        answer = CommandApi(client).call("set_failover_role", ADMIN, role=role, data_sync_first="1")
    assert answer.text == STARTED_SYNC
    eventually(lambda: _roles_are(backup, "primary", primary, "backup"), timeout=20)
    _report_has(backup, late_lsid, late)
    return late_lsid, late


def _kill_9(appliance: RunningAppliance) -> None:
    assert appliance.process is not None
    appliance.process.send_signal(signal.SIGKILL)
    appliance.process.wait()


def _took_over(appliance: RunningAppliance) -> None:
    health = _health(appliance)
    assert text_of(health, NS_LATER, "failover_role") == "primary"
    assert _status(health).startswith("Took over: the primary at"), _status(health)


def _roles_are(first: RunningAppliance, first_role: str, second: RunningAppliance, second_role: str) -> None:
    assert (_role(first), _role(second)) == (first_role, second_role)


class _CutShort:
    """A peer's answer that breaks off after `limit` bytes, as a dropped connection does."""

    def __init__(self, answer: IO[bytes], limit: int) -> None:
        self.answer, self.left = answer, limit

    def readline(self, limit: int = -1) -> bytes:
        line = self.answer.readline(limit)
        self.left -= len(line)
        return line

    def read(self, count: int = -1) -> bytes:
        data = self.answer.read(min(count, self.left) if count >= 0 else self.left)
        self.left -= len(data)
        return data


@sqlite_only
def test_forced_takeover_after_the_primary_is_killed_keeps_what_was_synced(
    pair: tuple[RunningAppliance, RunningAppliance], tmp_path: Path
) -> None:
    primary, backup = pair
    before = time.time()
    lines = ["the VPN drops every hour"]
    lsid, _ = _a_session(primary, lines)
    eventually(lambda: _synced_since(backup, before + 1), timeout=20)
    state = read_state(backup.data_dir)
    pairing = read_pairing(backup.data_dir)
    assert pairing is not None and state.peer_url == primary.https
    # A request signed with another key is refused, by either side.
    stranger = Peer.of(backup.data_dir, primary.https, Pairing(signing_key_of(new_pairing_key()), "x"))
    with pytest.raises(PeerUnreachable, match="not signed with this pair's key"):
        stranger.json("GET", "/failover/status")
    # A certificate other than the pinned one is refused before anything is sent.
    impostor = Peer(primary.https, pairing, backup.cert_path)
    with pytest.raises(PeerUnreachable, match="not answering"):
        impostor.json("GET", "/failover/status")
    # A sync that breaks off mid-way leaves the copy it patches as it was; whole, it applies.
    _a_session(primary, ["and now the printer too"] * 200)
    copy = backup.data_dir / "failover" / "replica.db"
    mine = tmp_path / "copy.db"
    mine.write_bytes(copy.read_bytes())
    copy_before = mine.read_bytes()
    peer = Peer.of(backup.data_dir, primary.https, pairing)
    staging = tmp_path / "copy.staging"
    hashes = snapshot.chunk_hashes(mine)
    with (
        peer.open("POST", "/failover/sync/database", hashes) as answer,
        pytest.raises(snapshot.SnapshotError, match="ended early"),
    ):
        snapshot.apply_chunks(mine, _CutShort(answer, 6000), staging)  # type: ignore[arg-type]
    assert mine.read_bytes() == copy_before
    with peer.open("POST", "/failover/sync/database", snapshot.chunk_hashes(mine)) as answer:
        applied = snapshot.apply_chunks(mine, answer, staging)
    assert 0 < applied.chunks_sent < applied.chunks_total
    # The primary dies at once; the last sync is what the backup has.
    since = time.time()  # read once: a moving mark (time.time() in the lambda) could stay ahead of every sync
    eventually(lambda: _synced_since(backup, since), timeout=20)
    _kill_9(primary)
    with backup.client() as client:
        api = CommandApi(client)
        refused = error_of(api.call("set_failover_role", ADMIN, role="primary"))
        assert refused is not None and "not answering" in refused and "force=1" in refused
        assert api.call("set_failover_role", ADMIN, role="primary", force="1").text == CHANGED_ROLE
    assert _role(backup) == "primary"
    _report_has(backup, lsid, lines)
    with backup.client() as client:
        key = CommandApi(client).call("generate_session_key", ADMIN, type="support", queue_id="general")
        assert local(key) == "session_key", error_of(key)
    # The old primary comes back: it finds its peer took over meanwhile, steps down and
    # syncs from it.
    primary.start()
    back = time.time()
    # It asked before it served: it never answers as a second primary.
    _roles_are(backup, "primary", primary, "backup")
    eventually(lambda: _synced_since(primary, back), timeout=20)
    _report_has(primary, lsid, lines)


def _check(condition: bool) -> None:
    assert condition


@sqlite_only
def test_the_primary_can_hand_over_its_role_with_or_without_its_peer(
    pair: tuple[RunningAppliance, RunningAppliance],
) -> None:
    """set_failover_role role=backup asked of the primary: with data_sync_first the backup
    syncs, then takes over; without, at once; with the peer gone, only with force=1."""
    primary, backup = pair
    before = time.time()
    lsid, _ = _a_session(primary, ["first, before the backup has anything"])
    eventually(lambda: _synced_since(backup, before + 1), timeout=20)
    _swap_with_a_sync_first(primary, backup, asked=primary)
    # Handed back at once by the new primary, no sync asked for.
    with backup.client() as client:
        assert CommandApi(client).call("set_failover_role", ADMIN, role="backup").text == CHANGED_ROLE
    eventually(lambda: _roles_are(primary, "primary", backup, "backup"), timeout=5)
    _report_has(primary, lsid, ["first, before the backup has anything"])
    # The peer gone: the primary steps down only when forced (and nobody then is primary).
    _kill_9(backup)
    with primary.client() as client:
        api = CommandApi(client)
        refused = error_of(api.call("set_failover_role", ADMIN, role="backup"))
        assert refused is not None and "force=1" in refused, refused
        assert _role(primary) == "primary"
        assert api.call("set_failover_role", ADMIN, role="backup", force="1").text == CHANGED_ROLE
    assert _role(primary) == "backup"
