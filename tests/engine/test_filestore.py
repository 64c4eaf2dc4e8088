"""The file store on a real directory: content kept once under its SHA-256, nothing left
behind by a failed write, and no descriptor closed that the store does not own."""

from __future__ import annotations

import asyncio
import hashlib
import os
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
