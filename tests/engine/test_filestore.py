"""The file store on a real directory: content kept once under its SHA-256, nothing left
behind by a failed write, and no descriptor closed that the store does not own."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import pytest

from lifeline.recordings.filestore import FileStore, FileTooLarge


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob(".incoming-*"))


def test_a_file_is_kept_once_under_its_sha256(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    data = b"screenshot bytes" * 1000
    first = store.put_bytes(data)
    again = asyncio.run(store.put_stream(_chunks(data[:7000], data[7000:])))
    assert first == again
    assert first.sha256 == hashlib.sha256(data).hexdigest()
    assert first.size == len(data)
    assert b"".join(store.open(first.sha256)) == data
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == [store.path_for(first.sha256)]


def test_a_stream_over_the_limit_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files", max_size=10)
    with pytest.raises(FileTooLarge):
        asyncio.run(store.put_stream(_chunks(b"123456", b"7890123")))
    with pytest.raises(FileTooLarge):
        store.put_bytes(b"x" * 11)
    assert _leftovers(tmp_path / "files") == []
    assert not list((tmp_path / "files").rglob("*"))


@pytest.mark.parametrize("how", ["bytes", "stream"])
def test_a_failure_after_the_file_is_closed_closes_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Renaming into place fails after the temporary file was closed; meanwhile another
    thread has opened a file, which Linux gives the lowest free number: the one just freed.
    Cleaning up must not close that file."""
    store = FileStore(tmp_path / "files")
    opened_meanwhile: list[IO[bytes]] = []

    def replace_fails(*_args: Any) -> None:
        opened_meanwhile.append((tmp_path / "someone-elses").open("wb"))
        raise OSError("the disk went away")

    monkeypatch.setattr(os, "replace", replace_fails)
    with pytest.raises(OSError, match="the disk went away"):
        if how == "bytes":
            store.put_bytes(b"a transcript")
        else:
            asyncio.run(store.put_stream(_chunks(b"a ", b"transcript")))
    other = opened_meanwhile[0]
    try:
        os.fstat(other.fileno())  # still open: the store closed only its own file
        other.write(b"still mine")
        other.flush()
    finally:
        other.close()
    assert (tmp_path / "someone-elses").read_bytes() == b"still mine"
    assert _leftovers(tmp_path / "files") == []


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_the_sweep_removes_old_files_no_row_references_and_interrupted_uploads(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")
    kept, orphan, young = (store.put_bytes(data) for data in (b"referenced", b"orphan", b"young orphan"))
    leftover = tmp_path / "files" / ".incoming-crash"
    leftover.write_bytes(b"half")
    for path in (store.path_for(kept.sha256), store.path_for(orphan.sha256), leftover):
        _age(path, 7200)
    asked: list[list[str]] = []

    def referenced(digests: list[str]) -> set[str]:
        asked.append(sorted(digests))
        return {kept.sha256} & set(digests)

    assert store.sweep(referenced, older_than=3600) == 2
    assert asked == [sorted([kept.sha256, orphan.sha256])]  # young files are not even asked about
    assert store.exists(kept.sha256) and store.exists(young.sha256)
    assert not store.exists(orphan.sha256) and not leftover.exists()


def test_a_file_uploaded_again_while_the_sweep_decides_is_kept(tmp_path: Path) -> None:
    """The sweep found the file old and unreferenced; meanwhile the same content was sent
    again and placed (a commit about to reference it): the new file stays."""
    store = FileStore(tmp_path / "files")
    data = b"sent twice"
    stored = store.put_bytes(data)
    _age(store.path_for(stored.sha256), 7200)

    def referenced(digests: list[str]) -> set[str]:
        store.put_bytes(data)  # the new upload is placed before its row commits
        return set()

    assert store.sweep(referenced, older_than=3600) == 0
    assert store.exists(stored.sha256)


def test_an_incoming_file_is_removed_unless_placed(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "files")

    async def receive(place: bool) -> None:
        async with store.receive(_chunks(b"a ", b"file")) as incoming:
            if place:
                incoming.place()
                incoming.place()  # a batched write run again alone places once

    asyncio.run(receive(False))
    assert _leftovers(tmp_path / "files") == [] and not store.exists(hashlib.sha256(b"a file").hexdigest())
    asyncio.run(receive(True))
    assert _leftovers(tmp_path / "files") == [] and store.exists(hashlib.sha256(b"a file").hexdigest())
