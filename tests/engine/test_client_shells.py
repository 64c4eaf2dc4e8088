"""A shell's recording written exactly once (clients.shells): what follows the last commit
is cut when the shell is taken up again, one writer at a time; and transfers that stopped
moving are dropped by their job."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from lifeline.clients.live import TransferMoved
from lifeline.clients.models import ClientTransfer
from lifeline.clients.shells import RecordedShell, ShellBusy, read_sidecar
from lifeline.clients.transfers import expiry_job, partial_path
from lifeline.db.base import utcnow
from lifeline.db.engine import Database
from lifeline.recordings.filestore import FileStore
from lifeline.recordings.store import RecordingStore
from lifeline.sessions.queries import session_by_lsid
from tests.support.engine import ConsoleNode

LSID = "ab" + "0" * 30
NAME = f"ab/{LSID}-command_shell-0.cast"


def output_of(path: Path) -> str:
    lines = path.read_bytes().decode().splitlines()
    assert json.loads(lines[0])["version"] == 2
    return "".join(data for _, code, data in map(json.loads, lines[1:]) if code == "o")


def test_what_follows_the_last_commit_is_cut_when_the_shell_is_taken_up(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    shell = RecordedShell(store, 7, NAME, utcnow())
    assert shell.output(1, b"", b"one ")
    assert shell.output(2, b"", b"two ")
    assert not shell.output(2, b"", b"two ")  # again: recorded already
    assert not shell.output(4, b"", b"four ")  # not next
    shell.commit()
    assert read_sidecar(store.path_for(NAME)) == (2, shell.size)
    assert shell.output(3, b"", b"three ")  # written, never committed: the process dies here
    with pytest.raises(ShellBusy):
        RecordedShell(store, 7, NAME, utcnow())  # one writer at a time
    shell._lock.close()  # the kill lets go of the lock, and of the file
    shell._writer._file.close()

    again = RecordedShell(store, 7, NAME, utcnow())
    assert again.sequence == 2
    assert output_of(store.path_for(NAME)) == "one two "
    assert again.output(3, b"", b"three ")
    again.input("ls\r")
    size = again.finish()
    path = store.path_for(NAME)
    assert size == path.stat().st_size
    assert output_of(path) == "one two three "
    assert read_sidecar(path) is None


def test_a_character_cut_across_frames_is_recorded_whole(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path)
    shell = RecordedShell(store, 8, NAME, utcnow())
    shell.output(1, b"", b"caf" + b"\xc3")
    shell.output(2, b"", b"\xa9 \xff")
    shell.finish()
    assert output_of(store.path_for(NAME)) == "café \ufffd"


def test_a_transfer_idle_for_ten_minutes_fails_and_its_partial_file_goes(
    db: Database, live_events: list[object], tmp_path: Path
) -> None:
    node = ConsoleNode(db)
    started = node.start_session()
    session_id = db.call(lambda s: session_by_lsid(s, started.lsid).id)  # type: ignore[union-attr]
    files = FileStore(tmp_path / "files")
    files.root.mkdir(parents=True)

    def add(session: object, transfer_id: str, idle: timedelta) -> None:
        session.add(  # type: ignore[attr-defined]
            ClientTransfer(id=transfer_id, session_id=session_id, direction="download", updated_at=utcnow() - idle)
        )

    db.call(add, "aa11", timedelta(minutes=11))
    db.call(add, "bb22", timedelta(minutes=2))
    partial_path(files, "aa11").write_bytes(b"half")
    partial_path(files, "bb22").write_bytes(b"half")
    asyncio.run(expiry_job(db, files).round())
    statuses = db.call(lambda s: {t.id: (t.status, t.error) for t in s.query(ClientTransfer)})
    assert statuses == {
        "aa11": ("failed", "The transfer stopped moving for 10 minutes"),
        "bb22": ("moving", ""),
    }
    assert not partial_path(files, "aa11").exists() and partial_path(files, "bb22").exists()
    moved = [e for e in live_events if isinstance(e, TransferMoved)]
    assert [(e.lsid, e.transfer["id"], e.transfer["state"]) for e in moved] == [(started.lsid, "aa11", "failed")]
    node.close()


def test_an_abandoned_shell_ends_at_its_last_commit_and_only_once(tmp_path: Path) -> None:
    from lifeline.clients.shells import close_abandoned

    store = RecordingStore(tmp_path)
    shell = RecordedShell(store, 9, NAME, utcnow())
    shell.output(1, b"", b"kept ")
    shell.commit()
    shell.output(2, b"", b"lost")
    assert close_abandoned(store, NAME) is None  # still held: whoever holds it finishes it
    shell._lock.close()
    shell._writer._file.close()
    size = close_abandoned(store, NAME)
    path = store.path_for(NAME)
    assert size == path.stat().st_size
    assert output_of(path) == "kept "
    assert close_abandoned(store, NAME) is None  # done already
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
