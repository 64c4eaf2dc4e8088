"""The embedded database's incremental copy, in chunks of 4 KiB (SQLite's page size here).

The primary takes a consistent snapshot with SQLite's online backup API and answers only
the chunks whose SHA-256 differs from the hashes the backup sent of its last copy. The
backup patches a staging copy, checks it (whole-file SHA-256 against the primary's, then
`PRAGMA integrity_check`) and only then replaces its copy with it; an interrupted sync
leaves the previous copy as it was. The copy reaches the running appliance's database
through the backup API again: one SQLite transaction, so its readers see the old data or
the new, never a mix.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 4096
DIGEST = 32
INDEX = struct.Struct(">I")
SEND_BLOCK = 256 * 1024
# A header line longer than this is not one of ours.
MAX_HEADER = 4096


class SnapshotError(Exception):
    """A copy that cannot be trusted; the previous copy stays."""


@dataclass(frozen=True)
class Applied:
    size: int
    chunks_sent: int
    chunks_total: int
    sha256: str  # of the copy, checked: the primary's snapshot's
    hashes: bytes  # of the copy's chunks, for the next sync (see cached_hashes)


def chunk_hashes(path: Path) -> bytes:
    """SHA-256 of each chunk of a file, concatenated; nothing for a missing file."""
    if not path.exists():
        return b""
    out = bytearray()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            out += hashlib.sha256(chunk).digest()
    return bytes(out)


def _stamp(path: Path) -> bytes:
    status = path.stat()
    return f"{status.st_size}:{status.st_mtime_ns}\n".encode()


def cached_hashes(copy: Path) -> bytes:
    """`chunk_hashes(copy)`, from the file beside it when that was written for this very
    copy (same size and modification time), else read anew: hashing every chunk of a big
    copy is a good part of a sync that changed little."""
    if not copy.exists():
        return b""
    try:
        kept = copy.with_suffix(".hashes").read_bytes()
        stamp, _, hashes = kept.partition(b"\n")
        if stamp + b"\n" == _stamp(copy) and len(hashes) == (copy.stat().st_size + CHUNK - 1) // CHUNK * DIGEST:
            return hashes
    except FileNotFoundError:
        pass
    return chunk_hashes(copy)


def keep_hashes(copy: Path, hashes: bytes) -> None:
    """Remember the chunk hashes of `copy` as it is now (see cached_hashes)."""
    side = copy.with_suffix(".hashes")
    scratch = side.with_suffix(".hashes-tmp")
    scratch.write_bytes(_stamp(copy) + hashes)
    os.replace(scratch, side)


def take_snapshot(database_file: Path, into: Path) -> None:
    """A consistent copy of a live SQLite database (writers carry on meanwhile)."""
    into.unlink(missing_ok=True)
    source = sqlite3.connect(database_file, timeout=30)
    target = sqlite3.connect(into)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def differing_chunks(snapshot: Path, their_hashes: bytes) -> Iterator[bytes]:
    """The answer to a backup: a JSON header line (size, whole-file SHA-256, chunk count),
    then each chunk that differs as a 4-byte index and its bytes (the last may be short)."""
    whole = hashlib.sha256()
    differing: list[int] = []
    with snapshot.open("rb") as source:
        index = 0
        while chunk := source.read(CHUNK):
            whole.update(chunk)
            theirs = their_hashes[index * DIGEST : (index + 1) * DIGEST]
            if theirs != hashlib.sha256(chunk).digest():
                differing.append(index)
            index += 1
    size = snapshot.stat().st_size
    header = {"size": size, "sha256": whole.hexdigest(), "chunks": len(differing), "chunk": CHUNK}
    # Sent in blocks of many chunks: one write per chunk would cost far more than the bytes.
    block = bytearray(json.dumps(header).encode() + b"\n")
    with snapshot.open("rb") as source:
        for index in differing:
            source.seek(index * CHUNK)
            block += INDEX.pack(index) + source.read(CHUNK)
            if len(block) >= SEND_BLOCK:
                yield bytes(block)
                block.clear()
    yield bytes(block)


def _read_exactly(answer: IO[bytes], count: int) -> bytes:
    data = answer.read(count)
    if len(data) != count:
        raise SnapshotError("the primary's answer ended early")
    return data


def apply_chunks(copy: Path, answer: IO[bytes], staging: Path, sent_hashes: bytes | None = None) -> Applied:
    """Patch a staging copy of `copy` with the primary's answer and check it; the caller
    then swaps it in (`os.replace`). `sent_hashes`: what the request sent of `copy`."""
    old_hashes = chunk_hashes(copy) if sent_hashes is None else sent_hashes
    header_line = answer.readline(MAX_HEADER)
    try:
        header = json.loads(header_line)
        size, expected, count = int(header["size"]), str(header["sha256"]), int(header["chunks"])
    except (ValueError, KeyError, TypeError):
        raise SnapshotError("the primary's answer does not start with a sync header") from None
    if copy.exists():
        shutil.copyfile(copy, staging)
    else:
        staging.write_bytes(b"")
    total = (size + CHUNK - 1) // CHUNK
    hashes = bytearray(old_hashes[: total * DIGEST].ljust(total * DIGEST, b"\0"))
    with staging.open("r+b") as out:
        for _ in range(count):
            (index,) = INDEX.unpack(_read_exactly(answer, INDEX.size))
            if index >= total:
                raise SnapshotError("the primary sent a chunk past the end of its database")
            length = min(CHUNK, size - index * CHUNK)
            chunk = _read_exactly(answer, length)
            out.seek(index * CHUNK)
            out.write(chunk)
            hashes[index * DIGEST : (index + 1) * DIGEST] = hashlib.sha256(chunk).digest()
        out.truncate(size)
        out.flush()
        os.fsync(out.fileno())
    digest = hashlib.sha256()
    with staging.open("rb") as source:
        while block := source.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise SnapshotError("the patched copy does not match the primary's snapshot")
    check_integrity(staging)
    return Applied(size, count, total, expected, bytes(hashes))


def _open_still(path: Path) -> sqlite3.Connection:
    """Read a copy without touching it: no journal, no locks, no -wal beside it."""
    return sqlite3.connect(f"file:{path}?immutable=1", uri=True)


def check_integrity(path: Path) -> None:
    """SQLite's quick_check: every page, record and constraint, but not whether each index
    matches its table (integrity_check's extra, 15 times slower on 85 MB: 6.6 s against
    0.4 s). The copy is already the primary's snapshot to the bit (its SHA-256 matched), so
    an index out of step would be the primary's own; what this catches is a snapshot that
    is not a sound database."""
    connection = _open_still(path)
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as error:
        raise SnapshotError(f"the copy is not a database ({error})") from None
    finally:
        connection.close()
    if rows != [("ok",)]:
        raise SnapshotError(f"the copy fails SQLite's integrity check: {rows[0][0]}")


def install(copy: Path, database_file: Path) -> None:
    """Make the running database hold the copy, in one transaction of its own."""
    source = _open_still(copy)
    target = sqlite3.connect(database_file, timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
